export * from './dbus-error.js';
export * from './dbus-message.js';
export { parseSignature, parseSingleType, typeSignature, type DBusType, type DBusBasicCode } from './dbus-signature.js';
export { isBusName, isInterfaceName, isMemberName, isObjectPath } from './dbus-names.js';
export { encodeDBusMessage } from './dbus-marshal.js';
export { decodeDBusMessage, dbusMessageLength } from './dbus-unmarshal.js';
export * from './dbus-tube-error.js';
export * from './dbus-tube-types.js';
export { DBusTube, DBUS_TUBE_QUEUE_BYTES } from './dbus-tube.js';
