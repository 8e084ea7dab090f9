/** Syntax of D-Bus object paths and names (D-Bus specification, "Valid Names"). */

const PATH = /^\/$|^(\/[A-Za-z0-9_]+)+$/;
const ELEMENT = '[A-Za-z_][A-Za-z0-9_]*';
const INTERFACE = new RegExp(`^${ELEMENT}(\\.${ELEMENT})+$`);
const MEMBER = new RegExp(`^${ELEMENT}$`);
const UNIQUE_NAME = /^:[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const WELL_KNOWN_NAME = /^[A-Za-z_-][A-Za-z0-9_-]*(\.[A-Za-z_-][A-Za-z0-9_-]*)+$/;
const MAX_NAME = 255;

export function isObjectPath(text: string): boolean {
  return PATH.test(text);
}

/** Interface and error names share one syntax. */
export function isInterfaceName(text: string): boolean {
  return text.length <= MAX_NAME && INTERFACE.test(text);
}

export function isMemberName(text: string): boolean {
  return text.length <= MAX_NAME && MEMBER.test(text);
}

export function isBusName(text: string): boolean {
  return text.length <= MAX_NAME && (UNIQUE_NAME.test(text) || WELL_KNOWN_NAME.test(text));
}
