import type { DiskErrorCode } from '../base/disk-error.js';
import type { FileTransferErrorCode } from '../files/file-transfer-error.js';
import type { LinkErrorCode } from '../linklocal/link-error.js';
import type { LinkLocalServiceErrorCode } from '../linklocal/link-local-service-error.js';
import type { MdnsErrorCode } from '../mdns/mdns-error.js';
import type { DriverErrorCode } from '../net/driver-error.js';
import type { TransportErrorCode } from '../net/transport-error.js';
import type { EngineErrorCode } from '../rmcast/engine-error.js';
import type { RoomErrorCode } from '../rooms/room-error.js';
import type { XmlErrorCode } from '../xml/xml-error.js';
import type { RpcFaultCode } from './rpc-fault.js';

/**
 * Every code a service answer can carry in `data.code`: its own protocol faults,
 * the library's error codes it passes through as they are, and 'internal-error'
 * for a bug of the service. A newer service may add codes; a client passes those
 * on unchanged, so branch on the ones you know and treat the rest as failures.
 */
export type RemoteErrorCode =
  | RpcFaultCode
  | 'internal-error'
  | RoomErrorCode
  | LinkLocalServiceErrorCode
  | LinkErrorCode
  | MdnsErrorCode
  | XmlErrorCode
  | EngineErrorCode
  | DriverErrorCode
  | TransportErrorCode
  | DiskErrorCode
  | FileTransferErrorCode;
