import { XmlElement } from '../xml/xml-element.js';
import { NS_TUBES } from '../xml/namespaces.js';
import type { TubeListLimits, TubeParameter, TubeParameters, TubeProblemReason } from './tube-types.js';

/**
 * Typed `<parameter name="N" type="T">value</parameter>` entries (spec §7.1),
 * the encoding of a tube's `<parameters>`: `str` text, `int`/`uint` decimal
 * 32-bit, `bytes` standard base64, `bool` `1`/`0`.
 */

const INT_MIN = -0x8000_0000;
const INT_MAX = 0x7fff_ffff;
const UINT_MAX = 0xffff_ffff;

/** Characters XML cannot carry: the serializer would replace them, so a value holding one would not arrive as sent. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ASCII_SPACE = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const SIGNED_DECIMAL = /^[+-]?[0-9]+$/;
const UNSIGNED_DECIMAL = /^\+?[0-9]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Longer digit strings are out of range whatever they say; checked before converting. */
const MAX_DIGITS = 32;

export function isXmlSafe(text: string): boolean {
  return !NOT_XML_CHAR.test(text);
}

export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

// ------------------------------------------------------------------ building

/** The wire text of a parameter value. */
export function parameterText(parameter: TubeParameter): string {
  switch (parameter.type) {
    case 'str':
      return parameter.value;
    case 'int':
    case 'uint':
      return String(parameter.value);
    case 'bytes':
      return Buffer.from(parameter.value.buffer, parameter.value.byteOffset, parameter.value.byteLength).toString('base64');
    case 'bool':
      return parameter.value ? '1' : '0';
  }
}

/** `<parameters>` in salut's shape; always present, possibly empty (§7.2). */
export function buildParametersElement(parameters: TubeParameters): XmlElement {
  const element = new XmlElement('parameters', NS_TUBES);
  for (const [name, parameter] of parameters) element.child('parameter', NS_TUBES, { name, type: parameter.type }, parameterText(parameter));
  return element;
}

/**
 * Why a parameter of our own would not arrive intact at a peer that reads
 * with `limits` (undefined: it would). The builder refuses such parameters.
 */
export function localParameterProblem(name: string, parameter: TubeParameter, limits: TubeListLimits): string | undefined {
  if (name === '' || name.length > limits.maxParameterNameLength || !isXmlSafe(name)) return `parameter name ${JSON.stringify(name.slice(0, 64))} is empty, too long or not XML text`;
  const value: unknown = parameter.value;
  switch (parameter.type) {
    case 'str':
      if (typeof value !== 'string' || !isXmlSafe(value)) return `parameter ${name}: str value is not XML text`;
      if (utf8Length(value) > limits.maxParameterValueBytes) return `parameter ${name}: str value exceeds ${limits.maxParameterValueBytes} bytes`;
      return undefined;
    case 'int':
      return Number.isInteger(value) && (value as number) >= INT_MIN && (value as number) <= INT_MAX ? undefined : `parameter ${name}: int value is not a signed 32-bit integer`;
    case 'uint':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= UINT_MAX ? undefined : `parameter ${name}: uint value is not an unsigned 32-bit integer`;
    case 'bytes':
      if (!(value instanceof Uint8Array)) return `parameter ${name}: bytes value is not a Uint8Array`;
      return value.byteLength > limits.maxParameterValueBytes ? `parameter ${name}: bytes value exceeds ${limits.maxParameterValueBytes} bytes` : undefined;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `parameter ${name}: bool value is not a boolean`;
    default:
      return `parameter ${name}: unknown type ${JSON.stringify((parameter as { type: unknown }).type)}`;
  }
}

// ------------------------------------------------------------------ reading

export interface ParameterProblem {
  reason: TubeProblemReason;
  parameter?: string;
}

const PROBLEM_NAME_LENGTH = 64;

/**
 * Reads a received `<parameters>` element (absent: no parameters). Every bad
 * parameter is dropped and reported; the tube keeps the others. Two or more
 * parameters with one name are all dropped: which value was meant is
 * unknowable. Unlike salut (quirk 19) an empty `str` or `bytes` value is a
 * value, not a reason to skip.
 */
export function readParameters(element: XmlElement | undefined, limits: TubeListLimits, report: (problem: ParameterProblem) => void): Map<string, TubeParameter> {
  const kept = new Map<string, TubeParameter>();
  if (element === undefined) return kept;
  const entries = element.getChildren('parameter');
  const seen = new Map<string, number>();
  for (const entry of entries) {
    const name = entry.getAttr('name');
    if (name !== undefined && name !== '') seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  for (const entry of entries) {
    const name = entry.getAttr('name');
    if (name === undefined || name === '') {
      report({ reason: 'missing-parameter-name' });
      continue;
    }
    const label = name.slice(0, PROBLEM_NAME_LENGTH);
    if (name.length > limits.maxParameterNameLength) {
      report({ reason: 'bad-parameter-name', parameter: label });
      continue;
    }
    if ((seen.get(name) ?? 0) > 1) {
      report({ reason: 'duplicate-parameter', parameter: label });
      continue;
    }
    // Once the tube has all it may keep, the rest is not even decoded.
    if (kept.size >= limits.maxParameters) {
      report({ reason: 'too-many-parameters', parameter: label });
      continue;
    }
    const result = readParameterValue(entry.getAttr('type'), entry.text(), limits);
    if (typeof result === 'string') {
      report({ reason: result, parameter: label });
      continue;
    }
    kept.set(name, result);
  }
  return kept;
}

function readParameterValue(type: string | undefined, text: string, limits: TubeListLimits): TubeParameter | TubeProblemReason {
  if (type === undefined || type === '') return 'missing-parameter-type';
  if (type === 'str') return utf8Length(text) > limits.maxParameterValueBytes ? 'parameter-too-large' : { type, value: text };
  const trimmed = text.replace(ASCII_SPACE, '');
  switch (type) {
    case 'int':
    case 'uint': {
      if (!(type === 'int' ? SIGNED_DECIMAL : UNSIGNED_DECIMAL).test(trimmed)) return 'bad-parameter-value';
      const digits = trimmed.replace(/^[+-]?0*/, '');
      if (digits.length > MAX_DIGITS) return 'bad-parameter-value';
      const value = Number(trimmed);
      const [min, max] = type === 'int' ? [INT_MIN, INT_MAX] : [0, UINT_MAX];
      // Number('-0') is -0; the wire means 0.
      return value >= min && value <= max ? { type, value: value === 0 ? 0 : value } : 'bad-parameter-value';
    }
    case 'bool':
      return trimmed === '1' ? { type, value: true } : trimmed === '0' ? { type, value: false } : 'bad-parameter-value';
    case 'bytes': {
      const compact = trimmed.replace(/[ \t\r\n]+/g, '');
      if (compact.length > Math.ceil(limits.maxParameterValueBytes / 3) * 4) return 'parameter-too-large';
      if (!BASE64.test(compact)) return 'bad-parameter-value';
      const bytes = new Uint8Array(Buffer.from(compact, 'base64'));
      return bytes.byteLength > limits.maxParameterValueBytes ? 'parameter-too-large' : { type, value: bytes };
    }
    default:
      return 'unknown-parameter-type';
  }
}
