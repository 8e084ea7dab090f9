/**
 * The page's only way to make elements. Children that are strings become Text
 * nodes, so whatever came from the network is shown as text and never parsed
 * as HTML (there is no innerHTML anywhere in the page).
 */
export type Child = Node | string | null | undefined | false;

export interface Attributes {
  class?: string;
  id?: string;
  title?: string;
  type?: string;
  role?: string;
  for?: string;
  dir?: string;
  tabindex?: string;
  [aria: `aria-${string}`]: string;
  [data: `data-${string}`]: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Text that may hold right-to-left overrides: isolated so it cannot reorder what follows it. */
export function isolated(text: string, className: string): HTMLElement {
  return el('bdi', { class: className }, text);
}

export function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`no #${id}`);
  return element as T;
}

export function replaceChildren(parent: HTMLElement, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

export function button(label: string, onClick: () => void, attributes: Attributes = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', ...attributes }, label);
  b.addEventListener('click', onClick);
  return b;
}
