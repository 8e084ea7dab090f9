import type { RoomWarning } from './room-types.js';

/** RoomWarning as JSON carries it (an unknown sender is null). */
export type WarningJson =
  | { kind: 'group-reset'; room: string; reason: string; detail: string }
  | { kind: 'spoof-suspected'; room: string; sender: string | null; senderId: number }
  | { kind: 'lines-may-be-lost'; room: string; members: string[]; since: string };

export function warningJson(warning: RoomWarning): WarningJson {
  switch (warning.kind) {
    case 'group-reset':
      return warning;
    case 'spoof-suspected':
      return { ...warning, sender: warning.sender ?? null };
    case 'lines-may-be-lost':
      return { ...warning, since: warning.since.toISOString() };
  }
}
