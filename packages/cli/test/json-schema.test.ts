import { expect } from 'chai';
import { PayloadSchemas, type JsonSchema } from '../src/json-schema';
import { metadataSources } from '../src/service-loader';
import { Address, TreeNode, Zoo } from './fixtures/dto-zoo';

describe('PayloadSchemas (JSON Schema from class-validator metadata)', () => {
  let schemas: PayloadSchemas;
  let zoo: JsonSchema & { properties: Record<string, JsonSchema>; required: string[] };

  before(() => {
    schemas = new PayloadSchemas(metadataSources());
    expect(schemas.schemaFor(Zoo)).to.deep.equal({ $ref: '#/components/schemas/Zoo' });
    zoo = schemas.definitions.Zoo as typeof zoo;
  });

  it('maps string formats: uuid, email, uri, date-time', () => {
    expect(zoo.properties.id).to.deep.equal({ type: 'string', format: 'uuid' });
    expect(zoo.properties.email).to.deep.equal({ type: 'string', format: 'email' });
    expect(zoo.properties.homepage).to.deep.equal({ type: 'string', format: 'uri' });
    expect(zoo.properties.createdAt).to.deep.equal({ type: 'string', format: 'date-time' });
    expect(zoo.properties.updatedAt).to.deep.equal({ type: 'string', format: 'date-time' });
    expect(zoo.properties.bornOn).to.deep.equal({ type: 'string', format: 'date-time' });
  });

  it('maps number types and bounds', () => {
    expect(zoo.properties.age).to.deep.equal({ type: 'integer', minimum: 0, maximum: 150 });
    expect(zoo.properties.price).to.deep.equal({ type: 'number', exclusiveMinimum: 0 });
  });

  it('maps enums (string and numeric), @IsIn and @Equals', () => {
    expect(zoo.properties.colour).to.deep.equal({ type: 'string', enum: ['red', 'green'] });
    expect(zoo.properties.priority).to.deep.equal({ type: 'integer', enum: [1, 2] });
    expect(zoo.properties.letter).to.deep.equal({ type: 'string', enum: ['a', 'b'] });
    expect(zoo.properties.kind).to.deep.equal({ type: 'string', const: 'zoo' });
  });

  it('maps lengths and patterns', () => {
    expect(zoo.properties.code).to.deep.equal({ type: 'string', pattern: '^[A-Z]{3}-\\d+$' });
    expect(zoo.properties.name).to.deep.equal({ type: 'string', minLength: 1 });
    expect(schemas.definitions.Address!.properties).to.deep.equal({
      street: { type: 'string', minLength: 1 },
      country: { type: 'string', minLength: 2, maxLength: 2 },
      postcode: { type: 'string', maxLength: 10 },
    });
  });

  it('requires every validated property except @IsOptional / @ValidateIf / @Allow-only ones, and honours @IsDefined', () => {
    expect(zoo.required).to.include.members(['id', 'address', 'previous', 'anything', 'tree']);
    expect(zoo.required).not.to.include.members(['nickname']);
    for (const optional of ['nickname', 'reason', 'extra', 'billing']) expect(zoo.required, optional).not.to.include(optional);
    expect(schemas.definitions.Address!.required).to.deep.equal(['street', 'country']);
  });

  it('references nested classes, also inside arrays, with array size constraints on the array', () => {
    expect(zoo.properties.address).to.deep.equal({ $ref: '#/components/schemas/Address' });
    expect(zoo.properties.previous).to.deep.equal({ type: 'array', minItems: 1, maxItems: 5, items: { $ref: '#/components/schemas/Address' } });
    expect(schemas.schemaFor(Address)).to.deep.equal({ $ref: '#/components/schemas/Address' });
  });

  it('applies { each: true } constraints to array items', () => {
    expect(zoo.properties.tags).to.deep.equal({ type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string' } });
    expect(zoo.properties.scores).to.deep.equal({ type: 'array', items: { type: 'integer', minimum: 1 } });
    expect(zoo.properties.palette).to.deep.equal({ type: 'array', items: { type: 'string', enum: ['red', 'green'] } });
  });

  it('handles recursive classes with a $ref to themselves', () => {
    expect(schemas.schemaFor(TreeNode)).to.deep.equal({ $ref: '#/components/schemas/TreeNode' });
    expect(schemas.definitions.TreeNode!.properties).to.deep.equal({
      label: { type: 'string' },
      children: { type: 'array', items: { $ref: '#/components/schemas/TreeNode' } },
    });
  });

  it('describes bytes, text and untyped JSON payloads', () => {
    expect(schemas.schemaFor(Buffer)).to.deep.equal({ type: 'string', format: 'binary' });
    expect(schemas.schemaFor(String)).to.deep.equal({ type: 'string' });
    expect(schemas.schemaFor(Object)).to.deep.equal({});
  });

  it('gives two different classes with one name two schema names', () => {
    const other = new PayloadSchemas(metadataSources());
    const First = class Address {};
    const Second = class Address {};
    expect(other.schemaFor(First)).to.deep.equal({ $ref: '#/components/schemas/Address' });
    expect(other.schemaFor(Second)).to.deep.equal({ $ref: '#/components/schemas/Address2' });
  });
});
