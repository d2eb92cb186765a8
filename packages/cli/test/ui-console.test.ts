import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import { get, type Server } from 'node:http';
import { describeDeadLetter, type DeadLetter, type FieldTable } from '@warren/core';
import { buildAsyncApi } from '../src/asyncapi';
import { loadService } from '../src/service-loader';
import { buildTopology } from '../src/topology-model';
import type { ContractView } from '../src/ui/api-types';
import { createConsoleServer, parseSelection } from '../src/ui/console-server';
import { contractView, exampleOf } from '../src/ui/contract-view';
import { DeadLetterDesk } from '../src/ui/dead-letter-desk';
import { bodyView, deadLetterDetail, groupDeadLetters, selects } from '../src/ui/dead-letter-view';
import { defaultManagementUrl, ManagementClient, vhostOf } from '../src/ui/management';
import { LOOPBACK_NAMES, tokenMatches } from '../src/ui/security';
import { wiringGraph } from '../src/ui/wiring';
import { fixture, runWarren } from './support/cli';
import { buildConsoleAssets, closedPort } from './support/console-assets';

/** A dead letter as core's DLQ API reads one from the headers Warren writes. */
function letter(messageId: string, code: string, message: string, failedAt: number | undefined, body = '{}', extra: FieldTable = {}): DeadLetter {
  const headers: FieldTable = {
    'x-warren-error-code': code, 'x-warren-error-message': message, 'x-warren-attempts': 1,
    'x-warren-original-exchange': 'orders', 'x-warren-original-routing-key': 'order.created', 'x-warren-original-queue': 'orders.order-created',
    ...(failedAt === undefined ? {} : { 'x-warren-last-failure': failedAt }), ...extra,
  };
  return describeDeadLetter({ body: Buffer.from(body), properties: { messageId, contentType: 'application/json', headers } });
}

describe('warren ui: the console\'s model', () => {
  it('draws publishers, exchanges, queues and consumers, marking a route no consumer binds as dead', () => {
    const service = loadService([fixture('orders-service')]);
    const graph = wiringGraph(buildTopology([service]), service.consumers);
    expect(graph.nodes.filter((n) => n.kind === 'consumer').map((n) => n.label)).to.have.members(service.consumers.map((c) => c.id));
    expect(graph.nodes.find((n) => n.id === 'publisher:OrderEvents')).to.include({ kind: 'publisher', dead: true });
    const dead = graph.edges.filter((e) => e.dead);
    expect(dead.map((e) => [e.from, e.to, e.label])).to.deep.equal([['publisher:OrderEvents', 'exchange:shop.orders', 'note: order.note']]);
    expect(graph.edges.some((e) => e.kind === 'dead-letter' && e.to === 'exchange:warren.dead-letter')).to.equal(true);
    expect(graph.findings).to.deep.equal(['OrderEvents.note sends to shop.orders / order.note, but no consumer in the given services binds it']);
  });

  it('groups dead letters by error code and message, newest first, falling back to queue order without a failure time', () => {
    const { groups, messages } = groupDeadLetters([
      letter('a', 'VALIDATION_FAILED', 'qty', 1000),
      letter('b', 'HANDLER_FAILED', 'down', 3000),
      letter('c', 'VALIDATION_FAILED', 'qty', 2000),
      letter('d', 'DECODE_FAILED', 'bad json', undefined),
      letter('e', 'DECODE_FAILED', 'bad json', undefined),
    ]);
    expect(messages.map((m) => m.messageId)).to.deep.equal(['b', 'c', 'a', 'e', 'd']);
    expect(groups).to.deep.equal([
      { key: 'HANDLER_FAILED: down', count: 1, newest: 3000 },
      { key: 'VALIDATION_FAILED: qty', count: 2, newest: 2000 },
      { key: 'DECODE_FAILED: bad json', count: 2, newest: undefined },
    ]);
  });

  it('shows a body as pretty JSON, as text, or as a hex dump of bytes', () => {
    expect(bodyView(Buffer.from('{"a":[1,2]}'), 'application/json')).to.deep.equal({ kind: 'json', text: '{\n  "a": [\n    1,\n    2\n  ]\n}', bytes: 11, truncated: false });
    expect(bodyView(Buffer.from('Hello <b>'), 'text/plain')).to.include({ kind: 'text', text: 'Hello <b>' });
    expect(bodyView(Buffer.from('{"a":'), 'application/json')).to.include({ kind: 'text', text: '{"a":' });
    const hex = bodyView(Buffer.from([0x00, 0x41, 0xff, 0x0a]), 'application/octet-stream');
    expect(hex).to.include({ kind: 'hex', bytes: 4 });
    expect(hex.text).to.equal(`00000000  00 41 ff 0a${' '.repeat(36)}  |.A..|`);
    const big = bodyView(Buffer.alloc(70 * 1024, 0x61), 'text/plain');
    expect(big).to.include({ kind: 'text', truncated: true, bytes: 70 * 1024 });
    expect(big.text).to.have.length(64 * 1024);
  });

  it('lists the validation issues of x-warren-error-details one by one, and every header as text', () => {
    const detail = deadLetterDetail(letter('a', 'VALIDATION_FAILED', 'OrderCreated failed validation', 1000, '{}', {
      'x-warren-error-details': 'items.0.qty: qty must not be less than 1 | orderId: orderId must be a UUID',
      'x-bytes': Buffer.from([1, 2]),
      'x-table': { nested: [1, 'two'] },
    }));
    expect(detail.issues).to.deep.equal(['items.0.qty: qty must not be less than 1', 'orderId: orderId must be a UUID']);
    expect(detail.headers).to.deep.include(['x-bytes', '<2 bytes: 0102>']);
    expect(detail.headers).to.deep.include(['x-table', '{"nested":[1,"two"]}']);
    expect(detail.route).to.equal('orders / order.created');
  });

  it('selects one message by fingerprint, a group by its key, or a filtered set by the page\'s search', () => {
    const a = letter('a', 'VALIDATION_FAILED', 'qty', 1000);
    const b = letter('b', 'HANDLER_FAILED', 'ledger down', 2000);
    const [rowA] = groupDeadLetters([a]).messages;
    expect([a, b].filter((l) => selects({ kind: 'message', id: rowA!.id }, l))).to.deep.equal([a]);
    expect([a, b].filter((l) => selects({ kind: 'group', key: 'HANDLER_FAILED: ledger down' }, l))).to.deep.equal([b]);
    expect([a, b].filter((l) => selects({ kind: 'filter', text: 'LEDGER' }, l))).to.deep.equal([b]);
    expect([a, b].filter((l) => selects({ kind: 'all' }, l))).to.have.length(2);
  });

  it('refuses a selection that is not one of the four kinds, or too long', () => {
    expect(parseSelection({ kind: 'group', key: 'X: y' })).to.deep.equal({ kind: 'group', key: 'X: y' });
    for (const bad of [undefined, null, 'all', { kind: 'everything' }, { kind: 'message' }, { kind: 'message', id: 'x'.repeat(101) }, { kind: 'filter', text: '  ' }, { kind: 'group', key: 42 }]) {
      expect(() => parseSelection(bad), JSON.stringify(bad)).to.throw(/selection/);
    }
  });

  it('renders contracts with payload schemas resolved and an example that meets their constraints', () => {
    const service = loadService([fixture('orders-service')]);
    const view = contractView(buildAsyncApi({ title: 'shop', version: '1.0.0', ...service }));
    const channel = view.channels.find((c) => c.address === 'order.created' && c.exchange === 'shop.orders')!;
    expect(channel.operations.map((o) => o.action)).to.include('send');
    const [message] = channel.messages;
    expect(JSON.stringify(message!.payload)).not.to.contain('$ref');
    expect(exampleOf({ type: 'object', properties: { id: { type: 'string', format: 'uuid' }, qty: { type: 'integer', minimum: 1 }, tags: { type: 'array', minItems: 2, items: { type: 'string', minLength: 6 } } } }))
      .to.deep.equal({ id: '3f1c2a7e-5b0e-4a8e-9d6f-0c1d2e3f4a5b', qty: 1, tags: ['textxx', 'textxx'] });
  });

  it('finds the management API beside the broker, and the vhost in the AMQP URL', () => {
    expect(defaultManagementUrl('amqp://app:s3cret@mq.local:5672/orders')).to.equal('http://app:s3cret@mq.local:15672');
    expect(defaultManagementUrl('amqps://mq.local/')).to.equal('https://mq.local:15671');
    expect(vhostOf('amqp://mq.local:5672')).to.equal('/');
    expect(vhostOf('amqp://mq.local:5672/%2F')).to.equal('/');
    expect(vhostOf('amqp://mq.local:5672/shop')).to.equal('shop');
    expect(new ManagementClient('http://app:s3cret@mq.local:15672/', '/').describe()).to.equal('http://mq.local:15672');
  });

  it('reports an unreachable management API as a state, without its credentials', async () => {
    const port = await closedPort();
    const live = await new ManagementClient(`http://app:s3cret@127.0.0.1:${port}`, '/').live();
    expect(live).to.include({ status: 'unreachable', reason: `no answer from http://127.0.0.1:${port}: connection refused (is the rabbitmq_management plugin enabled?)` });
    expect(JSON.stringify(live)).not.to.contain('s3cret').and.not.to.contain('app:');
  });

  it('compares tokens in full, whatever their length', () => {
    expect(tokenMatches('abc', 'abc')).to.equal(true);
    expect(tokenMatches('abd', 'abc')).to.equal(false);
    expect(tokenMatches('ab', 'abc')).to.equal(false);
    expect(tokenMatches(undefined, 'abc')).to.equal(false);
  });
});

describe('warren ui: the console\'s HTTP server', () => {
  let server: Server;
  let port: number;
  const token = 'the-token';
  const contracts: ContractView = { title: 't', version: '1', channels: [] };

  const start = async (actionsAllowed: boolean) => {
    server = createConsoleServer({
      config: { service: 'svc', vhost: '/', actionsAllowed, refreshMs: 3000 },
      graph: { nodes: [], edges: [], findings: [] },
      contracts,
      desk: new DeadLetterDesk(undefined, []),
      token,
      hostNames: new Set(LOOPBACK_NAMES),
      secrets: [],
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  before(buildConsoleAssets);
  const request = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init);
  afterEach(() => new Promise<void>((resolve) => {
    if (!server?.listening) return resolve();
    server.closeAllConnections();
    server.close(() => resolve());
  }));

  it('serves the page with a content security policy that allows its own scripts only', async () => {
    await start(false);
    const page = await request('/');
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-security-policy')).to.contain("script-src 'self'").and.contain("default-src 'none'").and.contain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).to.equal('nosniff');
    expect(await page.text()).to.contain('<script type="module" src="/assets/app.js">');
    expect((await request('/assets/app.js')).headers.get('content-type')).to.contain('javascript');
    expect((await request('/../package.json')).status).to.equal(404);
  });

  it('refuses a request addressed to another host name (DNS rebinding)', async () => {
    await start(false);
    const answer = await new Promise<number>((resolve, reject) => {
      // fetch() sets Host itself; a raw request says what a rebound page's browser would send.
      get({ host: '127.0.0.1', port, path: '/api/config', headers: { host: `evil.example:${port}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0); }).on('error', reject);
    });
    expect(answer).to.equal(421);
    expect((await request('/api/config')).status).to.equal(200);
  });

  it('refuses actions on a read-only console, whatever the token', async () => {
    await start(false);
    const answer = await request('/api/dead-letters/X.y/replay', { method: 'POST', headers: { 'content-type': 'application/json', 'x-warren-token': token }, body: JSON.stringify({ selection: { kind: 'all' } }) });
    expect(answer.status).to.equal(403);
    expect(((await answer.json()) as { error: string }).error).to.contain('--allow-actions');
  });

  it('refuses actions without the token, with a wrong one, or from another origin', async () => {
    await start(true);
    const post = (headers: Record<string, string>) => request('/api/dead-letters/X.y/discard', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ selection: { kind: 'all' } }) });
    expect((await post({})).status).to.equal(401);
    expect((await post({ 'x-warren-token': 'the-tokem' })).status).to.equal(401);
    expect((await post({ 'x-warren-token': token, origin: 'http://evil.example' })).status).to.equal(403);
    // The right token gets through to the desk, which knows no consumer X.y.
    expect((await post({ 'x-warren-token': token })).status).to.equal(404);
  });
});

describe('warren ui: the command', () => {
  it('exits 2 with the password redacted when the broker cannot be reached', async () => {
    const result = await runWarren(['ui', fixture('orders-service'), '--amqp', 'amqp://app:s3cret-pw@127.0.0.1:1/shop', '--port', '0']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('127.0.0.1:1').and.not.contain('s3cret-pw');
  });

  it('exits 2 on a port that is not one', async () => {
    const result = await runWarren(['ui', fixture('orders-service'), '--port', '70000']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('--port must be a port number');
  });
});
