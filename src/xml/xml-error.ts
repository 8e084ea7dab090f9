import { CliqueError } from '../base/clique-error.js';

export type XmlErrorCode =
  | 'malformed' // not well-formed XML (bad syntax, unbalanced tags, unbound prefix, bad character)
  | 'dtd-forbidden' // a <!DOCTYPE ...> anywhere
  | 'entity-forbidden' // a reference to an entity other than the five predefined ones
  | 'too-large' // a stanza (or the stream header) exceeds its byte limit
  | 'too-deep' // element nesting exceeds the depth limit
  | 'too-many-elements' // one stanza holds more elements than allowed
  | 'too-many-attributes' // one element carries more attributes than allowed
  | 'name-too-long' // an element or attribute name exceeds the length limit
  | 'invalid-utf8' // the bytes are not valid UTF-8 (including a sequence cut off at the end)
  | 'unsupported-encoding' // the XML declaration names an encoding other than UTF-8
  | 'multiple-roots' // a stanza document with more than one root element
  | 'empty' // no root element at all
  | 'truncated' // input ended inside an element
  | 'bad-stream' // the stream root is not <stream:stream> in the streams namespace, or stray text between stanzas
  | 'invalid-name'; // (serializer) an element or attribute name that is not an XML name

/**
 * The only error the xml layer throws. Parsers throw it for hostile or broken input;
 * a stream parser that threw once stays failed (the caller drops the connection).
 */
export class XmlError extends CliqueError {
  declare readonly code: XmlErrorCode;

  constructor(code: XmlErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
