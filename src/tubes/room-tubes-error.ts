import { CliqueError } from '../base/clique-error.js';

export type RoomTubesErrorCode =
  | 'bad-argument' // an unusable service, parameter or byte array
  | 'unknown-tube' // no tube with that id in the table
  | 'wrong-state' // e.g. accepting an open tube, sending on a tube not open
  | 'too-many-tubes' // our table or our list is full, or all 65535 stream ids are taken
  | 'closed'; // the room was left

export class RoomTubesError extends CliqueError {
  declare readonly code: RoomTubesErrorCode;

  constructor(code: RoomTubesErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
