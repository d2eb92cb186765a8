type Schema = Record<string, unknown>;

const asSchema = (value: unknown): Schema | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Schema) : undefined);

/** Constraints worth a word beside the type: formats, bounds, lengths, patterns, enums. */
const CONSTRAINTS: Array<[string, (v: unknown) => string]> = [
  ['format', (v) => `format ${String(v)}`],
  ['minimum', (v) => `≥ ${String(v)}`],
  ['exclusiveMinimum', (v) => `> ${String(v)}`],
  ['maximum', (v) => `≤ ${String(v)}`],
  ['exclusiveMaximum', (v) => `< ${String(v)}`],
  ['minLength', (v) => `length ≥ ${String(v)}`],
  ['maxLength', (v) => `length ≤ ${String(v)}`],
  ['minItems', (v) => `items ≥ ${String(v)}`],
  ['maxItems', (v) => `items ≤ ${String(v)}`],
  ['pattern', (v) => `matches /${String(v)}/`],
  ['enum', (v) => `one of ${JSON.stringify(v)}`],
  ['const', (v) => `= ${JSON.stringify(v)}`],
];

function typeOf(schema: Schema): string {
  if (typeof schema.$ref === 'string') return `(see ${schema.$ref.split('/').pop()})`;
  const type = Array.isArray(schema.type) ? schema.type.join(' | ') : typeof schema.type === 'string' ? schema.type : undefined;
  if (type === 'array') {
    const items = asSchema(schema.items);
    return `array of ${items ? (typeof items.title === 'string' ? items.title : typeOf(items)) : 'anything'}`;
  }
  if (type === 'object' && typeof schema.title === 'string') return schema.title;
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) return ((schema.oneOf ?? schema.anyOf) as unknown[]).map((s) => typeOf(asSchema(s) ?? {})).join(' | ');
  return type ?? 'any';
}

function constraints(schema: Schema): string {
  return CONSTRAINTS.filter(([key]) => schema[key] !== undefined).map(([key, say]) => say(schema[key])).join(', ');
}

/** The properties an object schema has, or those of an array's items. */
function fieldsOf(schema: Schema): Schema | undefined {
  const own = asSchema(schema.properties);
  if (own) return schema;
  const items = asSchema(schema.items);
  return items && asSchema(items.properties) ? items : undefined;
}

/** A payload schema as a nested list of fields: name, type, required, constraints. */
export function SchemaView({ schema, depth = 0 }: { schema: unknown; depth?: number }) {
  const s = asSchema(schema);
  if (!s) return <span class="muted">any value</span>;
  const holder = fieldsOf(s);
  if (!holder || depth > 8) return <span class="schema-leaf"><span class="type">{typeOf(s)}</span> <span class="constraints">{constraints(s)}</span></span>;
  const required = new Set(Array.isArray(holder.required) ? (holder.required as string[]) : []);
  return (
    <ul class="schema" data-testid={depth === 0 ? 'schema' : undefined}>
      {depth === 0 && holder !== s && <li class="muted">{typeOf(s)} {constraints(s)}</li>}
      {Object.entries(asSchema(holder.properties) ?? {}).map(([name, field]) => {
        const f = asSchema(field) ?? {};
        const nested = fieldsOf(f);
        return (
          <li key={name} data-field={name}>
            <span class="field mono">{name}</span>{required.has(name) ? <span class="required" title="required">*</span> : <span class="optional">?</span>}
            {' '}<span class="type">{typeOf(f)}</span>
            {constraints(f) && <span class="constraints"> {constraints(f)}</span>}
            {typeof f.description === 'string' && <span class="description"> — {f.description}</span>}
            {nested && <SchemaView schema={f} depth={depth + 1} />}
          </li>
        );
      })}
    </ul>
  );
}
