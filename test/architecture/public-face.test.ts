import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The library's public face (src/index.ts) is pinned here name by name, so
 * that exporting something more, or something less, is a deliberate change
 * made in two places. The face: `Clique`/`Room`, `LinkLocalService`,
 * `RMulticastEngine` with `openMulticastNode`, the error classes a user can
 * meet with their codes, the one `WaitOptions`, the logger, and the types
 * those signatures name (options, event payloads, return values).
 */
const INDEX = resolve(import.meta.dirname, '../../src/index.ts');

/** Names that exist at run time (classes, functions). */
const VALUES = [
  'Clique',
  'CliqueError',
  'CryptoRandom',
  'DiskError',
  'DriverError',
  'EngineError',
  'HistoryStore',
  'LinkError',
  'LinkLocalService',
  'LinkLocalServiceError',
  'Logger',
  'MdnsError',
  'RMulticastEngine',
  'Room',
  'RoomError',
  'TransportError',
  'XmlError',
  'openMulticastNode',
  'ServiceClient',
  'ensureService',
  'ServiceError',
  'ServiceRequestError',
  'PROTOCOL_VERSION',
  // tubes
  'RoomTubes',
  'openRoomDBusTube',
  'DBusTube',
  'StreamTubeHost',
  'StreamTubeAcceptor',
  'ContactStreamTubes',
  'RoomTubesError',
  'DBusTubeError',
  'DBusError',
  'IqErrorAnswer',
  'FileTransfers',
  'OutgoingTransfer',
  'FileTransferError',
];

/** Names that are types only. */
const TYPES = [
  // people, 1-1 chat, invitations
  'LinkLocalServiceOptions',
  'LinkLocalServiceEvents',
  'InvitationRequest',
  'WaitOptions',
  'Contact',
  'ContactDirectory',
  'PresenceStatus',
  'PresenceInfo',
  'ChatMessageEvent',
  'InvitationEvent',
  'TextMessageKind',
  'CliqueInvitation',
  'RoomDirectory',
  'RoomDirectoryEvents',
  'RoomAddress',
  'AdvertiseResult',
  // 1-1 file transfer
  'FileTransfersOptions',
  'FileTransfersEvents',
  'OfferOptions',
  'TransferInfo',
  'FileLink',
  'IncomingOfferInfo',
  'OutgoingOfferInfo',
  'ReceiveOutcome',
  'TransferOutcome',
  'FileTransferErrorCode',
  // rooms
  'CliqueOptions',
  'CliqueEvents',
  'JoinOptions',
  'RoomInvitation',
  'SendOptions',
  'RoomEvents',
  'RoomMember',
  'RoomMessage',
  'RoomState',
  'LeaveReason',
  'MemberLeftReason',
  'TopicChange',
  'RoomWarning',
  'TypingEvent',
  'ChatState',
  'ReplyReference',
  'HistoryEntry',
  'HistoryKind',
  'HistoryStoreOptions',
  // reliable multicast
  'EngineStats',
  'RandomSource',
  'EngineOptions',
  'EngineTiming',
  'EngineState',
  'EngineEvent',
  'EngineOutput',
  'MembersLostReason',
  'ResetReason',
  'MulticastEngine',
  'MulticastNodeOptions',
  'EngineDriver',
  'EngineDriverEvents',
  'DriverMessage',
  // error codes
  'RoomErrorCode',
  'LinkLocalServiceErrorCode',
  'LinkErrorCode',
  'MdnsErrorCode',
  'XmlErrorCode',
  'EngineErrorCode',
  'DriverErrorCode',
  'TransportErrorCode',
  'DiskErrorCode',
  'ServiceErrorCode',
  'RemoteErrorCode',
  // the clique service's typed client
  'ServiceClientOptions',
  'ServiceClientEvents',
  'ServiceEvent',
  'EnsureServiceOptions',
  'ControlMethods',
  'ControlEvents',
  // tubes
  'RoomTubesOptions',
  'RoomTubesEvents',
  'RoomTubeInfo',
  'TubeOffer',
  'TubeParameter',
  'TubeParameters',
  'DBusTubeEvents',
  'DBusTubeMethodCall',
  'DBusTubeSignal',
  'DBusMethodCallSpec',
  'DBusSignalSpec',
  'DBusValue',
  'StreamTubeTarget',
  'StreamTubeHostOptions',
  'StreamTubeAcceptorOptions',
  'TubeLink',
  'ContactTubeInfo',
  'ContactTubeInvite',
  'ContactStreamTubesEvents',
  'ContactStreamTubesOptions',
  'RoomTubesErrorCode',
  'DBusTubeErrorCode',
  'DBusErrorCode',
  // logging
  'LogLevel',
  'LogRecord',
  'LogSink',
];

/** Every name src/index.ts exports, and whether it is exported as a type only. */
function declaredExports(): Array<{ name: string; typeOnly: boolean }> {
  const source = ts.createSourceFile(INDEX, readFileSync(INDEX, 'utf8'), ts.ScriptTarget.ES2022, true);
  return source.statements.flatMap((statement) => {
    if (!ts.isExportDeclaration(statement)) {
      const exported = ts.canHaveModifiers(statement) && ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      if (exported) throw new Error(`src/index.ts should only re-export: ${statement.getText(source).slice(0, 80)}`);
      return [];
    }
    const clause = statement.exportClause;
    if (clause === undefined || !ts.isNamedExports(clause)) throw new Error(`no 'export *' in src/index.ts: ${statement.getText(source)}`);
    return clause.elements.map((element) => ({ name: element.name.text, typeOnly: statement.isTypeOnly || element.isTypeOnly }));
  });
}

describe('the public face (src/index.ts)', () => {
  it('exports exactly the pinned names, values and types as pinned', () => {
    const exports = declaredExports();
    const sorted = (names: string[]): string[] => [...names].sort();
    expect(sorted(exports.filter((e) => !e.typeOnly).map((e) => e.name))).toEqual(sorted(VALUES));
    expect(sorted(exports.filter((e) => e.typeOnly).map((e) => e.name))).toEqual(sorted(TYPES));
    expect(new Set(exports.map((e) => e.name)).size).toBe(exports.length);
  });

  it('has at run time exactly the pinned values, and nothing internal', async () => {
    const api = (await import('../../src/index.js')) as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...VALUES].sort());
    for (const internal of ['SeededRandom', 'SEND_WINDOW', 'SimulatedNetwork', 'EngineDriver', 'PacketError']) expect(api).not.toHaveProperty(internal);
  });
});
