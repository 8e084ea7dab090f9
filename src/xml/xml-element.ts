/**
 * The element model shared by the parsers, the serializer and the stanza
 * helpers. Names are namespace-resolved: `name` is the local name and
 * `namespace` the URI ('' for none); prefixes seen on the wire are not kept
 * because they carry no meaning.
 */
export type XmlNode = XmlElement | string;

/** An attribute in a namespace (e.g. xml:lang). `prefix` is only a hint for serializing. */
export interface XmlNamespacedAttribute {
  name: string;
  namespace: string;
  value: string;
  prefix?: string;
}

export class XmlElement {
  readonly name: string;
  readonly namespace: string;
  /**
   * Attributes without a namespace (almost all XMPP attributes), by name.
   * Null-prototype, so hostile names like `__proto__` are plain keys.
   */
  readonly attrs: Record<string, string>;
  /** Attributes in a namespace, in document order. */
  readonly nsAttrs: XmlNamespacedAttribute[];
  /** Child elements and text, in document order; adjacent text is merged by the parser. */
  readonly children: XmlNode[];

  constructor(name: string, namespace = '', attrs: Record<string, string | undefined> = {}, children: XmlNode[] = []) {
    this.name = name;
    this.namespace = namespace;
    this.attrs = Object.create(null) as Record<string, string>;
    for (const [key, value] of Object.entries(attrs)) {
      if (value !== undefined) this.attrs[key] = value;
    }
    this.nsAttrs = [];
    // Empty text nodes are dropped: a parser can never produce them, so keeping them would break round trips.
    this.children = children.filter((c) => c !== '');
  }

  /** True if this element has that local name and, when given, that namespace. */
  is(name: string, namespace?: string): boolean {
    return this.name === name && (namespace === undefined || this.namespace === namespace);
  }

  /** A no-namespace attribute, or with `namespace`, a namespaced one. */
  getAttr(name: string, namespace?: string): string | undefined {
    if (namespace === undefined || namespace === '') return Object.hasOwn(this.attrs, name) ? this.attrs[name] : undefined;
    return this.nsAttrs.find((a) => a.name === name && a.namespace === namespace)?.value;
  }

  /** Sets (or with `undefined`, removes) a no-namespace attribute. */
  setAttr(name: string, value: string | undefined): this {
    if (value === undefined) delete this.attrs[name];
    else this.attrs[name] = value;
    return this;
  }

  setNsAttr(name: string, namespace: string, value: string, prefix?: string): this {
    const existing = this.nsAttrs.findIndex((a) => a.name === name && a.namespace === namespace);
    const attribute: XmlNamespacedAttribute = prefix === undefined ? { name, namespace, value } : { name, namespace, value, prefix };
    if (existing >= 0) this.nsAttrs[existing] = attribute;
    else this.nsAttrs.push(attribute);
    return this;
  }

  /** Child elements only. */
  elements(): XmlElement[] {
    return this.children.filter((c): c is XmlElement => typeof c !== 'string');
  }

  /** First child element with that local name; any namespace unless `namespace` is given. */
  getChild(name: string, namespace?: string): XmlElement | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.is(name, namespace)) return child;
    }
    return undefined;
  }

  /** All child elements matching (every child element when `name` is omitted). */
  getChildren(name?: string, namespace?: string): XmlElement[] {
    return this.elements().filter((c) => (name === undefined ? namespace === undefined || c.namespace === namespace : c.is(name, namespace)));
  }

  /** Text of the first matching child (its direct text), or undefined if there is no such child. */
  getChildText(name: string, namespace?: string): string | undefined {
    return this.getChild(name, namespace)?.text();
  }

  /** Concatenated direct text children (not descendants). */
  text(): string {
    let out = '';
    for (const child of this.children) if (typeof child === 'string') out += child;
    return out;
  }

  /** Appends children (elements or text); returns this for chaining. */
  append(...nodes: XmlNode[]): this {
    for (const node of nodes) if (node !== '') this.children.push(node);
    return this;
  }

  /** Appends a new child element and returns the child (for building nested trees). */
  child(name: string, namespace: string = this.namespace, attrs: Record<string, string | undefined> = {}, text?: string): XmlElement {
    const element = new XmlElement(name, namespace, attrs, text === undefined ? [] : [text]);
    this.children.push(element);
    return element;
  }

  /** Deep copy. */
  clone(): XmlElement {
    const copy = new XmlElement(this.name, this.namespace, this.attrs);
    for (const a of this.nsAttrs) copy.nsAttrs.push({ ...a });
    for (const child of this.children) copy.children.push(typeof child === 'string' ? child : child.clone());
    return copy;
  }
}

/** Shorthand constructor: `el('body', NS_CLIENT, {}, 'hi')`. */
export function el(name: string, namespace = '', attrs: Record<string, string | undefined> = {}, ...children: XmlNode[]): XmlElement {
  return new XmlElement(name, namespace, attrs, children);
}
