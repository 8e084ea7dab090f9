import { XmlError } from './xml-error.js';
import type { XmlElement } from './xml-element.js';
import { NS_XML, NS_XMLNS } from './namespaces.js';

/**
 * Characters XML 1.0 cannot carry at all, not even as character references
 * (C0 controls except tab/LF/CR, lone surrogates, U+FFFE/U+FFFF). Chat text
 * may contain them; we substitute U+FFFD so the document stays well-formed
 * instead of failing the whole send.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

// A conservative NCName check (ASCII rules plus any non-ASCII letter); parsed names always pass.
const NC_NAME = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$/;

export function escapeText(text: string): string {
  return text
    .replace(NOT_XML_CHAR, '\uFFFD')
    .replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

/** For double-quoted attribute values; whitespace controls are referenced so attribute normalization keeps them. */
export function escapeAttribute(value: string): string {
  return value.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c] ?? c);
}

const ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function checkName(name: string, what: string): void {
  if (!NC_NAME.test(name)) throw new XmlError('invalid-name', `invalid ${what} name ${JSON.stringify(name)}`);
}

export interface SerializeOptions {
  /**
   * The default namespace in force around the element. Inside an XMPP stream
   * this is `jabber:client`, so stanzas in it carry no xmlns; for a standalone
   * document it is '' and the root declares its namespace.
   */
  parentNamespace?: string;
}

/**
 * Serializes an element with double-quoted attributes. Element namespaces are
 * expressed with default-namespace declarations where they change; namespaced
 * attributes get a prefix declared on their element (`xml` needs none).
 */
export function serializeElement(element: XmlElement, options: SerializeOptions = {}): string {
  const parts: string[] = [];
  write(element, options.parentNamespace ?? '', parts);
  return parts.join('');
}

function write(element: XmlElement, inheritedNamespace: string, out: string[]): void {
  checkName(element.name, 'element');
  out.push('<', element.name);
  if (element.namespace !== inheritedNamespace) out.push(' xmlns="', escapeAttribute(element.namespace), '"');
  for (const name of Object.keys(element.attrs)) {
    checkName(name, 'attribute');
    // xmlns is a namespace declaration, not an attribute: writing one would change the element's namespace.
    if (name === 'xmlns') continue;
    out.push(' ', name, '="', escapeAttribute(element.attrs[name] ?? ''), '"');
  }
  const declared = new Map<string, string>(); // prefix -> namespace, on this element
  let generated = 0;
  for (const attribute of element.nsAttrs) {
    checkName(attribute.name, 'attribute');
    if (attribute.namespace === NS_XMLNS) continue;
    let prefix: string;
    if (attribute.namespace === NS_XML) {
      prefix = 'xml';
    } else {
      const hint = attribute.prefix;
      const usable = (p: string | undefined): p is string =>
        p !== undefined && NC_NAME.test(p) && !/^xml/i.test(p) && (declared.get(p) ?? attribute.namespace) === attribute.namespace;
      if (usable(hint)) prefix = hint;
      else {
        do prefix = `ns${generated++}`;
        while (!usable(prefix));
      }
      if (!declared.has(prefix)) {
        declared.set(prefix, attribute.namespace);
        out.push(' xmlns:', prefix, '="', escapeAttribute(attribute.namespace), '"');
      }
    }
    out.push(' ', prefix, ':', attribute.name, '="', escapeAttribute(attribute.value), '"');
  }
  if (element.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const child of element.children) {
    if (typeof child === 'string') out.push(escapeText(child));
    else write(child, element.namespace, out);
  }
  out.push('</', element.name, '>');
}
