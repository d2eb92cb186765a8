import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { diffContracts, type ContractChange } from '../src/contract-diff';
import type { JsonSchema } from '../src/json-schema';
import { runWarren } from './support/cli';

/** A one-operation AsyncAPI document whose message payload is `OrderCreated` with the given schema. */
function contract(action: 'send' | 'receive', orderCreated: JsonSchema, extra: { address?: string; operationId?: string } = {}): JsonSchema {
  const channel = action === 'send'
    ? { address: extra.address ?? 'order.created', messages: { OrderCreated: { $ref: '#/components/messages/OrderCreated' } }, bindings: { amqp: { is: 'routingKey', exchange: { name: 'orders', type: 'direct' } } } }
    : { address: extra.address ?? 'billing.orders', messages: { OrderCreated: { $ref: '#/components/messages/OrderCreated' } }, bindings: { amqp: { is: 'queue', queue: { name: extra.address ?? 'billing.orders' } } } };
  return {
    asyncapi: '3.0.0',
    info: { title: 'orders', version: '1.0.0' },
    channels: { main: channel },
    operations: { [extra.operationId ?? 'Orders.op']: { action, channel: { $ref: '#/channels/main' }, messages: [{ $ref: '#/channels/main/messages/OrderCreated' }] } },
    components: {
      messages: { OrderCreated: { name: 'OrderCreated', contentType: 'application/json', payload: { $ref: '#/components/schemas/OrderCreated' } } },
      schemas: {
        OrderCreated: orderCreated,
        LineItem: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }, required: ['sku', 'qty'] },
      },
    },
  };
}

const base: JsonSchema = {
  type: 'object',
  properties: {
    orderId: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['new', 'paid'] },
    note: { type: 'string', maxLength: 100 },
    items: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/LineItem' } },
  },
  required: ['orderId', 'status', 'items'],
};

function changed(mutate: (schema: any) => void): JsonSchema { // eslint-disable-line @typescript-eslint/no-explicit-any
  const copy = structuredClone(base);
  mutate(copy);
  return copy;
}

function breaking(changes: ContractChange[]): string[] {
  return changes.filter((c) => c.breaking).map((c) => `${c.path}: ${c.message}`);
}

describe('warren contract diff', () => {
  describe('for a message the service receives (its publishers must keep being accepted)', () => {
    const diff = (after: JsonSchema) => diffContracts(contract('receive', base), contract('receive', after));

    it('reports a new required field as breaking for publishers', () => {
      const changes = diff(changed((s) => { s.properties.couponCode = { type: 'string' }; s.required.push('couponCode'); }));
      expect(breaking(changes)).to.deep.equal(['payload: required property "couponCode" added']);
      expect(changes[0]!.affects).to.equal('publishers');
    });

    it('reports a changed type, a removed enum value and a tightened constraint', () => {
      expect(breaking(diff(changed((s) => { s.properties.orderId = { type: 'integer' }; })))).to.deep.equal(['payload.orderId: type changed from string to integer']);
      expect(breaking(diff(changed((s) => { s.properties.status.enum = ['new']; })))).to.deep.equal(['payload.status: value(s) "paid" removed']);
      expect(breaking(diff(changed((s) => { s.properties.note.maxLength = 50; })))).to.deep.equal(['payload.note: maxLength tightened from 100 to 50']);
      expect(breaking(diff(changed((s) => { s.properties.items.minItems = 2; })))).to.deep.equal(['payload.items: minItems tightened from 1 to 2']);
    });

    it('follows $refs into nested classes', () => {
      const after = contract('receive', base);
      (after.components as any).schemas.LineItem.properties.qty.minimum = 5; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(breaking(diffContracts(contract('receive', base), after))).to.deep.equal(['payload.items[].qty: minimum tightened from 1 to 5']);
    });

    it('accepts an optional field added, a constraint relaxed and an enum value added', () => {
      const changes = diff(changed((s) => { s.properties.gift = { type: 'boolean' }; s.properties.note.maxLength = 500; s.properties.status.enum.push('shipped'); }));
      expect(breaking(changes)).to.deep.equal([]);
      expect(changes.map((c) => c.message)).to.have.members(['optional property "gift" added', 'maxLength relaxed from 100 to 500', 'value(s) "shipped" added']);
    });
  });

  describe('for a message the service sends (its consumers must keep understanding it)', () => {
    const diff = (after: JsonSchema) => diffContracts(contract('send', base), contract('send', after));

    it('reports a required field that is no longer sent, and an enum value added, as breaking for consumers', () => {
      const changes = diff(changed((s) => { s.required = ['orderId', 'items']; s.properties.status.enum.push('shipped'); }));
      expect(breaking(changes)).to.deep.equal(['payload: property "status" is no longer required', 'payload.status: value(s) "shipped" added']);
      expect(changes.every((c) => c.affects === 'consumers')).to.equal(true);
    });

    it('accepts a new required field and a tightened constraint', () => {
      expect(breaking(diff(changed((s) => { s.properties.currency = { type: 'string' }; s.required.push('currency'); s.properties.note.maxLength = 10; })))).to.deep.equal([]);
    });
  });

  it('reports a removed operation and a moved channel as breaking', () => {
    const removed = diffContracts(contract('send', base), contract('send', base, { operationId: 'Orders.renamed' }));
    expect(breaking(removed)).to.deep.equal([': operation removed (exchange orders (direct), key order.created)']);
    const moved = diffContracts(contract('send', base), contract('send', base, { address: 'order.placed' }));
    expect(breaking(moved)).to.deep.equal([': channel moved from exchange orders (direct), key order.created to exchange orders (direct), key order.placed']);
  });

  it('finds no changes between identical documents', () => {
    expect(diffContracts(contract('receive', base), contract('receive', base))).to.deep.equal([]);
  });

  describe('on the command line', function () {
    this.timeout(10_000);
    let dir: string;
    const write = (name: string, doc: JsonSchema, json = false) => {
      const file = path.join(dir, name);
      writeFileSync(file, json ? JSON.stringify(doc) : stringify(doc));
      return file;
    };
    before(() => { dir = mkdtempSync(path.join(tmpdir(), 'warren-contract-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('exits 1 and names the breaking change, reading YAML and JSON', async () => {
      const oldFile = write('old.yaml', contract('receive', base));
      const newFile = write('new.json', contract('receive', changed((s) => { s.required.push('note'); })), true);
      const result = await runWarren(['contract', 'diff', oldFile, newFile]);
      expect(result.code).to.equal(1);
      expect(result.stdout).to.contain('Breaking changes (1)\n  ✗ Orders.op · payload: property "note" is now required  (breaks services sending to it)');
    });

    it('exits 0 when nothing breaks, and prints JSON with --json', async () => {
      const oldFile = write('same-old.yaml', contract('send', base));
      const newFile = write('same-new.yaml', contract('send', changed((s) => { s.properties.extra = { type: 'string' }; })));
      const result = await runWarren(['contract', 'diff', oldFile, newFile, '--json']);
      expect(result.code).to.equal(0);
      expect(JSON.parse(result.stdout)).to.deep.equal({
        breaking: [],
        compatible: [{ breaking: false, affects: 'consumers', operation: 'Orders.op', path: 'payload', message: 'optional property "extra" added' }],
      });
    });

    it('exits 2 for a file that is not an AsyncAPI 3 document', async () => {
      const oldFile = write('v2.yaml', { asyncapi: '2.6.0' });
      const result = await runWarren(['contract', 'diff', oldFile, oldFile]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.contain('is not an AsyncAPI 3 document');
    });
  });
});
