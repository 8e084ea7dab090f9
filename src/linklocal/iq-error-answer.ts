import type { XmlElement } from '../xml/xml-element.js';
import { LinkError } from './link-error.js';

/** An `<iq type="error">` answer to one of our requests. */
export class IqErrorAnswer extends LinkError {
  constructor(
    readonly answer: XmlElement,
    readonly condition: string | undefined,
  ) {
    super('iq-error', `the contact answered with an error${condition !== undefined ? ` (${condition})` : ''}`);
  }
}
