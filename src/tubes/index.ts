export * from './dbus-error.js';
export * from './dbus-message.js';
export { parseSignature, parseSingleType, typeSignature, type DBusType, type DBusBasicCode } from './dbus-signature.js';
export { isBusName, isInterfaceName, isMemberName, isObjectPath } from './dbus-names.js';
export { encodeDBusMessage } from './dbus-marshal.js';
export { decodeDBusMessage, dbusMessageLength } from './dbus-unmarshal.js';
export { RoomTubes, type RoomTubesOptions, type TubeOffer, type TubeRoom } from './room-tubes.js';
export * from './room-tubes-types.js';
export { RoomTubesError, type RoomTubesErrorCode } from './room-tubes-error.js';
