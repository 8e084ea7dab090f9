import type { RoomWarning } from './room-types.js';

/** RoomWarning as JSON carries it (an unknown sender is null). */
export type WarningJson =
  | { kind: 'group-reset'; room: string; reason: string; detail: string }
  | { kind: 'spoof-suspected'; room: string; sender: string | null; senderId: number };

export function warningJson(warning: RoomWarning): WarningJson {
  return warning.kind === 'group-reset' ? warning : { ...warning, sender: warning.sender ?? null };
}
