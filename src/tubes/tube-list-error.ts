import { CliqueError } from '../base/clique-error.js';

export type TubeListErrorCode =
  | 'invalid-tube' // a tube of our own table that peers would drop (bad id, stream id, name, parameter)
  | 'too-many-tubes'; // more tubes to announce than a peer keeps from one list

/**
 * Thrown when building our own tube list from a table that breaks the rules
 * we apply to received lists: we never send what a peer would drop. Received
 * lists never throw; their problems are reported as data.
 */
export class TubeListError extends CliqueError {
  declare readonly code: TubeListErrorCode;

  constructor(code: TubeListErrorCode, message: string) {
    super(code, message);
  }
}
