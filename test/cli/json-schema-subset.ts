/**
 * A validator for the part of JSON Schema (2020-12) that docs/events.schema.json
 * uses: type, const, enum, properties, required, items, oneOf, $ref to
 * #/$defs/..., format date-time. Anything else in a schema is an error here,
 * so the schema cannot silently use a keyword nobody checks.
 */
export type Schema = { [keyword: string]: unknown };

const KNOWN = new Set(['$schema', '$id', 'title', 'description', '$defs', 'type', 'const', 'enum', 'properties', 'required', 'items', 'oneOf', '$ref', 'format']);
const ISO_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Problems with `value` against `schema` (empty: valid). */
export function validate(value: unknown, schema: Schema, root: Schema = schema, path = '$'): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN.has(keyword)) throw new Error(`schema keyword ${keyword} at ${path} is not supported by this validator`);
  }
  if (typeof schema['$ref'] === 'string') {
    const ref = schema['$ref'];
    if (!ref.startsWith('#/$defs/')) throw new Error(`unsupported $ref ${ref}`);
    const target = (root['$defs'] as Record<string, Schema>)[ref.slice('#/$defs/'.length)];
    if (target === undefined) throw new Error(`$ref ${ref} names nothing`);
    return validate(value, target, root, path);
  }
  const errors: string[] = [];
  if (schema['type'] !== undefined) {
    const types = Array.isArray(schema['type']) ? (schema['type'] as string[]) : [schema['type'] as string];
    if (!types.some((t) => hasType(value, t))) return [`${path}: ${JSON.stringify(value)} is not of type ${types.join('|')}`];
  }
  if ('const' in schema && value !== schema['const']) errors.push(`${path}: ${JSON.stringify(value)} is not ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema['enum'])}`);
  if (schema['format'] === 'date-time' && (typeof value !== 'string' || !ISO_DATE_TIME.test(value) || Number.isNaN(Date.parse(value)))) {
    errors.push(`${path}: ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  }
  if (isObject(value)) {
    for (const name of (schema['required'] as string[] | undefined) ?? []) {
      if (!(name in value)) errors.push(`${path}: lacks ${name}`);
    }
    const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [name, sub] of Object.entries(properties)) {
      if (name in value) errors.push(...validate(value[name], sub, root, `${path}.${name}`));
    }
  }
  if (Array.isArray(value) && schema['items'] !== undefined) {
    value.forEach((item, i) => errors.push(...validate(item, schema['items'] as Schema, root, `${path}[${i}]`)));
  }
  if (Array.isArray(schema['oneOf'])) {
    const results = (schema['oneOf'] as Schema[]).map((sub) => validate(value, sub, root, path));
    const matching = results.filter((r) => r.length === 0).length;
    if (matching !== 1) {
      // The closest alternative's problems say most about what is wrong.
      const closest = results.reduce((a, b) => (b.length < a.length ? b : a));
      errors.push(`${path}: matches ${matching} of the oneOf alternatives, not exactly one${matching === 0 ? ` (closest: ${closest.join('; ')})` : ''}`);
    }
  }
  return errors;
}

function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === type;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
