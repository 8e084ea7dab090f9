import { CliqueError } from '../base/clique-error.js';

export type RoomErrorCode =
  // Local misuse or failures, thrown by the API:
  | 'bad-name' // a room name that is empty, longer than 63 bytes of UTF-8 or holds control characters
  | 'bad-argument' // any other bad argument (address, port, text, options)
  | 'join-failed' // no group socket could be opened (bind/membership failed 10 times), or the engine never connected
  | 'not-joined' // the room was left; nothing can be sent any more
  | 'too-large' // an outgoing stanza exceeds the room's stanza size limit
  | 'queue-full' // too many sends are waiting for the flow-control window
  | 'send-failed' // the rMulticast engine refused the message
  | 'timeout' // a wait (members, flush) did not finish in time
  | 'no-link' // invitations need the link-local service (XEP-0174), which this Clique does not have
  | 'backlog-overflow' // a messages() reader fell too far behind and was cut off
  // Stream-0 input we refused (reported through the room's 'rejected' event and the log):
  | 'bad-stanza' // not a well-formed, bounded XML document (see `cause`: an XmlError)
  | 'wrong-room' // `to` missing or naming another room (§4.3 step 1)
  | 'forged-from' // `from` names someone other than the rMulticast sender
  | 'duplicate' // a message id this sender already used
  // The store:
  | 'history-failed'; // the history database could not be opened, read or written

/** The errors of the rooms layer. Branch on `code`. */
export class RoomError extends CliqueError {
  declare readonly code: RoomErrorCode;

  constructor(code: RoomErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
