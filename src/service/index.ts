/** The service layer: the person's long-lived clique service, its control protocol, and its typed client. */
export { CliqueService, DEFAULT_LINGER_MS, type CliqueServiceOptions } from './clique-service.js';
export { ServiceClient, type ServiceClientEvents, type ServiceClientOptions, type ServiceEvent } from './service-client.js';
export { ensureService, type EnsureServiceOptions } from './ensure-service.js';
export { servicePaths, type ServicePaths } from './service-paths.js';
export { ServiceError, type ServiceErrorCode } from './service-error.js';
export { ServiceRequestError } from './service-request-error.js';
export type { RemoteErrorCode } from './remote-error-code.js';
export { PROTOCOL_VERSION, type ControlEvent, type ControlEvents, type ControlMethod, type ControlMethods } from './control-protocol.js';
