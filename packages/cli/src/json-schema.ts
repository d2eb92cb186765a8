/**
 * JSON Schema for payload classes, read from the metadata class-validator and class-transformer
 * recorded when the classes were defined. The schema describes what Warren's validation accepts:
 * only decorated properties (undecorated ones are stripped by the whitelist), required unless
 * `@IsOptional()` / `@ValidateIf()`, nested classes as `$ref`s to named schemas.
 */

/** A JSON Schema (draft 7, the dialect of AsyncAPI schema objects). */
export type JsonSchema = { [keyword: string]: unknown };

/** One rule class-validator recorded for a property (the fields the schema needs). */
export interface ValidationRule {
  type: string;
  name?: string;
  propertyName: string;
  constraints?: unknown[];
  each?: boolean;
}

/** What `@Type(() => X)` recorded. */
export interface TypeRule {
  typeFunction(options?: unknown): unknown;
  options?: { discriminator?: { property: string; subTypes: Array<{ name: string; value: unknown }> } };
}

/**
 * Where class metadata comes from: class-validator's global storage and class-transformer's default
 * storage, as loaded by the service (see `service-loader.ts`), so the CLI reads the same instances
 * the decorators wrote to.
 */
export interface ClassMetadataSources {
  validation: {
    getTargetValidationMetadatas(target: Function, schema: string, always: boolean, strictGroups: boolean, groups?: string[]): ValidationRule[];
  };
  transformer: {
    findTypeMetadata(target: Function, property: string): TypeRule | undefined;
    findExposeMetadata(target: Function, property: string): { options?: { name?: string } } | undefined;
  };
}

/** A constraint's JSON Schema keywords, and whether it makes the property optional or required. */
type Keywords = JsonSchema & { '#optional'?: true; '#required'?: true };

const STRING_FORMATS: Record<string, string> = {
  isUuid: 'uuid', isEmail: 'email', isUrl: 'uri', isDateString: 'date-time', isIso8601: 'date-time', isRFC3339: 'date-time', isFqdn: 'hostname',
};

/** JSON Schema keywords for one class-validator rule; undefined for rules with no JSON Schema equivalent. */
export function ruleKeywords(rule: ValidationRule): Keywords | undefined {
  const c = rule.constraints ?? [];
  const name = rule.type === 'customValidation' || rule.type === 'isDefined' ? rule.name : rule.name ?? rule.type;
  if (rule.type === 'conditionalValidation') return { '#optional': true };
  if (name && STRING_FORMATS[name]) return { type: 'string', format: STRING_FORMATS[name] };
  switch (name) {
    case 'isString': return { type: 'string' };
    case 'isNumber': return { type: 'number' };
    case 'isInt': return { type: 'integer' };
    case 'isBoolean': return { type: 'boolean' };
    case 'isDate': return { type: 'string', format: 'date-time' };
    case 'isArray': return { type: 'array' };
    case 'isObject': return { type: 'object' };
    case 'isNotEmptyObject': return { type: 'object', minProperties: 1 };
    case 'isEnum': return enumKeywords(c[1]);
    case 'isIn': return enumKeywords(c[0]);
    case 'isNotIn': return Array.isArray(c[0]) ? { not: { enum: c[0] } } : undefined;
    case 'equals': return { const: c[0] };
    case 'isIp': return c[0] === 6 || c[0] === '6' ? { type: 'string', format: 'ipv6' } : c[0] === 4 || c[0] === '4' ? { type: 'string', format: 'ipv4' } : { type: 'string' };
    case 'isMongoId': return { type: 'string', pattern: '^[0-9a-fA-F]{24}$' };
    case 'isBase64': return { type: 'string', contentEncoding: 'base64' };
    case 'isJson': return { type: 'string', contentMediaType: 'application/json' };
    case 'min': return { minimum: c[0] };
    case 'max': return { maximum: c[0] };
    case 'isPositive': return { exclusiveMinimum: 0 };
    case 'isNegative': return { exclusiveMaximum: 0 };
    case 'isDivisibleBy': return { multipleOf: c[0] };
    case 'minLength': return { minLength: c[0] };
    case 'maxLength': return { maxLength: c[0] };
    case 'isLength': return withoutUndefined({ minLength: c[0], maxLength: c[1] });
    case 'isNotEmpty': return { minLength: 1 };
    case 'matches': return { pattern: c[0] instanceof RegExp ? c[0].source : String(c[0]) };
    case 'arrayMinSize': return { minItems: c[0] };
    case 'arrayMaxSize': return { maxItems: c[0] };
    case 'arrayNotEmpty': return { minItems: 1 };
    case 'arrayUnique': return { uniqueItems: true };
    case 'isDefined': return { '#required': true };
    default: return undefined;
  }
}

function enumKeywords(values: unknown): Keywords | undefined {
  if (!Array.isArray(values)) return undefined;
  const type = values.every((v) => typeof v === 'string') ? 'string'
    : values.every((v) => Number.isInteger(v)) ? 'integer'
      : values.every((v) => typeof v === 'number') ? 'number' : undefined;
  return type ? { type, enum: [...values] } : { enum: [...values] };
}

function withoutUndefined(schema: JsonSchema): JsonSchema {
  return Object.fromEntries(Object.entries(schema).filter(([, v]) => v !== undefined && v !== null));
}

/** Keywords that only make sense on the array itself, never on its items. */
const ARRAY_KEYWORDS = new Set(['minItems', 'maxItems', 'uniqueItems']);

/**
 * The JSON Schemas of payload classes, each defined once under a unique name and referenced with
 * `$ref` (so recursive and shared classes work), ready to go in an AsyncAPI document's
 * `components.schemas`.
 *
 * @example
 * ```ts
 * const schemas = new PayloadSchemas(sources);
 * const payload = schemas.schemaFor(OrderCreated); // { $ref: '#/components/schemas/OrderCreated' }
 * document.components.schemas = schemas.definitions;
 * ```
 */
export class PayloadSchemas {
  /** Named schemas by component name. */
  readonly definitions: Record<string, JsonSchema> = {};
  private readonly names = new Map<Function, string>();

  constructor(private readonly sources: ClassMetadataSources, private readonly refPrefix = '#/components/schemas/') {}

  /** The schema of a payload type: `Buffer`, `String`, `Object` (any JSON), or a class (a `$ref`). */
  schemaFor(type: unknown): JsonSchema {
    if (type === Buffer) return { type: 'string', format: 'binary' };
    if (type === String) return { type: 'string' };
    if (type === Number) return { type: 'number' };
    if (type === Boolean) return { type: 'boolean' };
    if (type === Date) return { type: 'string', format: 'date-time' };
    if (typeof type !== 'function' || type === Object || type === Array || type === Promise) return {};
    return { $ref: this.refPrefix + this.define(type) };
  }

  private define(type: Function): string {
    const known = this.names.get(type);
    if (known) return known;
    const name = this.uniqueName(type.name || 'Anonymous');
    this.names.set(type, name);
    // Registered before the properties are built, so a class that refers to itself ends in a $ref.
    this.definitions[name] = {};
    this.definitions[name] = this.classSchema(type, name);
    return name;
  }

  private uniqueName(className: string): string {
    const base = className.replace(/[^A-Za-z0-9._-]/g, '_');
    let name = base;
    for (let n = 2; name in this.definitions; n++) name = `${base}${n}`;
    return name;
  }

  private classSchema(type: Function, title: string): JsonSchema {
    const rules = this.sources.validation.getTargetValidationMetadatas(type, '', false, false);
    const byProperty = new Map<string, ValidationRule[]>();
    for (const rule of rules) {
      if (!rule.propertyName) continue;
      byProperty.set(rule.propertyName, [...(byProperty.get(rule.propertyName) ?? []), rule]);
    }
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const [property, propertyRules] of byProperty) {
      const key = this.sources.transformer.findExposeMetadata(type, property)?.options?.name ?? property;
      const { schema, optional } = this.propertySchema(type, property, propertyRules);
      properties[key] = schema;
      if (!optional) required.push(key);
    }
    const schema: JsonSchema = { type: 'object', title, properties };
    if (required.length) schema.required = required;
    return schema;
  }

  private propertySchema(type: Function, property: string, rules: readonly ValidationRule[]): { schema: JsonSchema; optional: boolean } {
    const designType: unknown = Reflect.getMetadata?.('design:type', type.prototype, property);
    const typeRule = this.sources.transformer.findTypeMetadata(type, property);
    const own: JsonSchema = {};
    const items: JsonSchema = {};
    let optional = false;
    let required = false;
    let isArray = designType === Array || designType === Set;
    // Only `@Allow()`: whitelisted but unchecked, so it may be missing.
    let checked = false;
    for (const rule of rules) {
      if (rule.type === 'whitelistValidation') continue;
      checked = true;
      if (rule.type === 'nestedValidation') {
        if (rule.each) isArray ||= designType !== Object;
        continue;
      }
      const keywords = ruleKeywords(rule);
      if (!keywords) continue;
      const { '#optional': makesOptional, '#required': makesRequired, ...rest } = keywords;
      optional ||= makesOptional === true;
      required ||= makesRequired === true;
      if (rule.each && !rule.name?.startsWith('array')) {
        isArray = true;
        Object.assign(items, rest);
      } else if (rest.type === 'array' || Object.keys(rest).some((k) => ARRAY_KEYWORDS.has(k))) {
        isArray = true;
        Object.assign(own, rest);
      } else {
        Object.assign(own, rest);
      }
    }
    const element = typeRule ? this.typeRuleSchema(typeRule) : isArray ? {} : this.schemaFor(designType);
    const schema = isArray
      ? { type: 'array', ...own, items: mergeInto(element, items) }
      : mergeInto(element, own);
    return { schema, optional: !checked || (optional && !required) };
  }

  private typeRuleSchema(rule: TypeRule): JsonSchema {
    const subTypes = rule.options?.discriminator?.subTypes;
    if (subTypes?.length) return { oneOf: subTypes.map((s) => this.schemaFor(s.value)) };
    return this.schemaFor(rule.typeFunction());
  }
}

/** Adds keywords to a schema; a `$ref` cannot carry siblings in draft 7, so it is wrapped in `allOf`. */
function mergeInto(base: JsonSchema, extra: JsonSchema): JsonSchema {
  if (Object.keys(extra).length === 0) return base;
  if ('$ref' in base) {
    const { type: _ignored, ...rest } = extra;
    return Object.keys(rest).length ? { allOf: [base], ...rest } : base;
  }
  return { ...base, ...extra };
}
