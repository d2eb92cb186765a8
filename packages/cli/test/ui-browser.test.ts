import 'reflect-metadata';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { container as rootContainer } from 'tsyringe';
import { AmqpTransport, silentLogger, Warren, type Class } from '@warren/core';
import { describeWithBroker } from './support/broker';
import { launchBrowser, screenshotPath, type Browser } from './support/browser';
import { afterCleanup } from './support/cleanup';
import { buildConsoleAssets, closedPort } from './support/console-assets';
import { startConsole, type RunningConsole } from './support/console-process';
import { managementReachable, MANAGEMENT_URL, scratchVhost, type ScratchVhost } from './support/management';

/** The orders example, compiled: the console loads it, and the test runs its handlers as the service. */
const EXAMPLE = path.resolve(__dirname, '../../../../examples/orders-service/dist/src/handlers.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const example = require(EXAMPLE) as { OrderBook: Class<{ orders: Array<{ orderId: string }> }>; OrderHandlers: Class };

const CONSUMER = 'OrderHandlers.orderCreated';
const DLQ = 'orders.order-created.dlq';
const QTY_GROUP = 'VALIDATION_FAILED: OrderCreated failed validation: items.0.qty: qty must not be less than 1';
const COUPON_ISSUE = 'coupon: property coupon should not exist';

/** Waits for a condition with a deadline, and says what it waited for when it gives up. */
async function eventually(what: string, condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWithBroker('warren ui, in a browser, on the orders example', function () {
  this.timeout(90_000);
  let browser: Browser | undefined;
  let scratch: ScratchVhost | undefined;
  let transport: AmqpTransport;
  let service: Warren | undefined;
  let console_: RunningConsole;
  let readOnly: RunningConsole | undefined;
  let page: Page;
  const book = new example.OrderBook();
  const couponOrder = randomUUID();
  const zeroQtyOrders = [randomUUID(), randomUUID(), randomUUID()];

  /** The orders service as deployed: v1 refuses unknown fields, v2 (the fix) strips them. */
  const startService = async (forbidNonWhitelisted: boolean) => {
    await service?.close();
    const container = rootContainer.createChildContainer();
    container.registerInstance(example.OrderBook, book);
    service = await Warren.start({ name: 'orders-service', url: scratch!.amqpUrl, handlers: [example.OrderHandlers], container, validation: { forbidNonWhitelisted }, logger: silentLogger });
  };
  const publishOrder = (body: unknown, headers: Record<string, string> = {}) => transport.publish({
    exchange: 'orders', routingKey: 'order.created', body: Buffer.from(JSON.stringify(body)),
    properties: { messageId: randomUUID(), contentType: 'application/json', deliveryMode: 2, headers },
  }, { confirm: true });
  const deadLetters = async () => (await transport.inspectQueue(DLQ)).messageCount;
  /** The dead-letter queue's size, once no listing holds messages (a held message is not counted as ready). */
  const expectDeadLetters = (count: number) => eventually(`${DLQ} holds ${count} message(s)`, async () => (await deadLetters()) === count);
  /** Opens a page of a console afresh (a hash change alone would keep the page's earlier data). */
  const open = async (hash: string, on: RunningConsole = console_) => {
    const target = `${on.url}${hash}`;
    if (page.url() === target) await page.reload();
    else await page.goto(target);
  };
  const shot = (name: string) => page.screenshot({ path: screenshotPath(name), fullPage: true });

  before(async function () {
    await buildConsoleAssets();
    browser = await launchBrowser();
    if (!browser) return this.skip();
    if (!(await managementReachable())) {
      if (process.env.CI === 'true') throw new Error(`The RabbitMQ management API is required (CI=true) but does not answer at ${new URL(MANAGEMENT_URL).host}: rabbitmq-plugins enable rabbitmq_management`);
      return this.skip();
    }
    scratch = await scratchVhost('ui');
    await startService(true);
    transport = new AmqpTransport({ url: scratch.amqpUrl });
    await transport.connect(10_000);
    console_ = await startConsole([EXAMPLE, '--amqp', scratch.amqpUrl, '--management', scratch.managementUrl, '--port', '0', '--allow-actions']);
    page = await browser.context.newPage();
    page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
    // The token travels in the URL's fragment, which the page keeps in its session storage.
    await page.goto(`${console_.url}#token=${console_.token}`);
  });

  afterCleanup('stop the consoles, the service and the browser, and delete the scratch vhost', async () => {
    await readOnly?.stop();
    await console_?.stop();
    await browser?.close();
    await service?.close();
    await transport?.close();
    await scratch?.remove();
  });

  it('draws the example\'s publisher, exchanges, queues and consumers, with live numbers from the management API', async () => {
    await open('#/wiring');
    const consumers = page.locator('[data-kind="consumer"]');
    await consumers.first().waitFor();
    expect(await consumers.evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-name')))).to.have.members(['OrderHandlers.greet', CONSUMER]);
    expect(await page.locator('[data-kind="publisher"]').getAttribute('data-name')).to.equal('OrderEvents');
    expect(await page.locator('[data-kind="exchange"]').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-name')))).to.have.members(['orders', 'warren.dead-letter']);
    expect(await page.locator('[data-testid="findings"]').textContent()).to.contain('No dead routes');
    await page.locator('[data-testid="live-state"][data-status="ok"]').waitFor();
    // The management API refreshes its figures every few seconds: wait for the service's consumer to show.
    const consumersOfQueue = page.locator('tr[data-queue="orders.order-created"] [data-column="consumers"]');
    const started = Date.now();
    await eventually('the queue table shows 1 consumer on orders.order-created', async () => (await consumersOfQueue.textContent()) === '1', 30_000);
    console.log(`      (the management API showed the consumer after ${Date.now() - started} ms)`);
    expect(await page.locator('[data-stats="orders.order-created"]').textContent()).to.match(/^0 msgs · 1 consumer · /);
    await shot('wiring');
  });

  it('groups dead-lettered orders by their validation issue, newest first, and shows a message in full', async () => {
    for (const orderId of zeroQtyOrders) await publishOrder({ orderId, items: [{ sku: 'BOOK-1', qty: 0 }] });
    await publishOrder({ orderId: couponOrder, items: [{ sku: 'BOOK-2', qty: 1 }], coupon: 'SPRING' });
    await expectDeadLetters(4);

    await open('#/dead-letters');
    await page.locator(`tr[data-consumer="${CONSUMER}"] [data-column="count"]`, { hasText: '4' }).waitFor();
    await shot('dead-letter-queues');
    await page.locator(`a[href="#/dead-letters/${CONSUMER}"]`).click();
    const groups = page.locator('.group');
    await groups.first().waitFor();
    const keys = await page.locator('.group-key').allTextContents();
    expect(keys).to.have.length(2);
    expect(keys[0]).to.contain(COUPON_ISSUE); // published last: the newest group comes first
    expect(keys[1]).to.equal(QTY_GROUP);
    expect(await groups.nth(1).locator('[data-testid="group-count"]').textContent()).to.equal('× 3');
    await shot('dead-letters');

    await groups.nth(0).locator('table.messages a').click();
    const detail = page.locator('[data-testid="message-detail"]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid="issues"] li').allTextContents()).to.deep.equal([COUPON_ISSUE]);
    expect(await detail.locator('[data-testid="route"]').textContent()).to.equal('orders / order.created');
    expect(await detail.locator('[data-testid="attempts"]').textContent()).to.equal('1');
    expect(await detail.locator('[data-testid="body"]').textContent()).to.contain(`"orderId": "${couponOrder}"`).and.contain('"coupon": "SPRING"');
    expect(await detail.locator('[data-testid="headers"]').textContent()).to.contain('x-warren-error-code').and.contain('VALIDATION_FAILED');
    await shot('dead-letter-message');
  });

  it('replays a group from the page after the fix is deployed, and the service handles it', async () => {
    await startService(false); // v2: unknown fields are stripped, as by default
    await open(`#/dead-letters/${CONSUMER}`);
    const couponGroup = page.locator('.group', { hasText: COUPON_ISSUE });
    await couponGroup.locator('button', { hasText: 'Replay group' }).click();
    const dialog = page.locator('[role="dialog"]');
    expect(await dialog.locator('[data-testid="confirm-text"]').textContent()).to.contain('(1 message)').and.contain('back to queue orders.order-created');
    await shot('replay-confirmation');
    await dialog.locator('button', { hasText: 'Replay 1 message' }).click();
    expect(await page.locator('[data-testid="action-result"]').textContent()).to.equal('Replayed 1 message to orders.order-created.');
    await eventually('the service handled the replayed order', async () => book.orders.some((o) => o.orderId === couponOrder), 10_000);
    await expectDeadLetters(3);
    await page.locator('.group', { hasText: COUPON_ISSUE }).waitFor({ state: 'detached' });
    expect(await page.locator('.group-key').allTextContents()).to.deep.equal([QTY_GROUP]);
  });

  it('discards one message after confirmation and says how many went', async () => {
    await open(`#/dead-letters/${CONSUMER}`);
    await page.locator('.group table.messages a').first().click();
    await page.locator('[data-testid="message-detail"] button', { hasText: 'Discard message' }).click();
    await page.locator('[role="dialog"] button', { hasText: 'Cancel' }).click();
    await expectDeadLetters(3);
    await page.locator('[data-testid="message-detail"] button', { hasText: 'Discard message' }).click();
    expect(await page.locator('[data-testid="confirm-text"]').textContent()).to.contain('cannot be undone');
    await page.locator('[role="dialog"] button', { hasText: 'Discard 1 message' }).click();
    expect(await page.locator('[data-testid="action-result"]').textContent()).to.equal(`Discarded 1 message from ${DLQ}.`);
    await expectDeadLetters(2);
    await page.locator('[data-testid="group-count"]', { hasText: '× 2' }).waitFor();
  });

  it('shows message content as text: markup in a body or a header is never run or parsed', async () => {
    await publishOrder({ orderId: '<img src=x onerror="window.__warrenPwned=1">', items: [] }, { 'x-note': '<script>window.__warrenPwned=2</script><b>bold</b>' });
    await expectDeadLetters(3);
    await open(`#/dead-letters/${CONSUMER}`);
    await page.locator('.group', { hasText: 'orderId must be a UUID' }).locator('table.messages a').click();
    const detail = page.locator('[data-testid="message-detail"]');
    expect(await detail.locator('[data-testid="body"]').textContent()).to.contain('"orderId": "<img src=x onerror=\\"window.__warrenPwned=1\\">"');
    expect(await detail.locator('[data-testid="headers"]').textContent()).to.contain('<script>window.__warrenPwned=2</script><b>bold</b>');
    expect(await page.locator('main img, main b, main script').count()).to.equal(0);
    expect(await page.evaluate(() => (globalThis as { __warrenPwned?: number }).__warrenPwned)).to.equal(undefined);
  });

  it('needs the printed token for actions, and never sends the broker\'s credentials to the page', async () => {
    const post = (token?: string) => fetch(`${console_.url}api/dead-letters/${CONSUMER}/replay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { 'x-warren-token': token } : {}) },
      body: JSON.stringify({ selection: { kind: 'group', key: QTY_GROUP } }),
    });
    expect((await post()).status).to.equal(401);
    expect((await post(`${console_.token!.slice(0, -1)}x`)).status).to.equal(401);
    await expectDeadLetters(3);
    const replay = await post(console_.token);
    expect(replay.status).to.equal(200);
    // The service still refuses zero quantities: they come back to the dead-letter queue.
    expect(await replay.json()).to.deep.include({ action: 'replay', moved: 2, queue: 'orders.order-created' });
    await expectDeadLetters(3); // dead-lettered again

    const answers = await Promise.all(['', 'assets/app.js', 'api/config', 'api/wiring', 'api/live', 'api/contracts', 'api/dead-letters', `api/dead-letters/${CONSUMER}`]
      .map(async (p) => (await fetch(`${console_.url}${p}`)).text()));
    for (const text of answers) expect(text).not.to.contain(scratch!.password).and.not.to.contain(scratch!.user);
    expect(console_.output()).not.to.contain(scratch!.password);
  });

  it('renders the AsyncAPI contract: channels, messages, payload schemas and examples', async () => {
    await open('#/contracts');
    const channel = page.locator('article[data-channel="order.created"]');
    await channel.waitFor();
    expect(await channel.locator('.operations').textContent()).to.contain('OrderEvents.created');
    expect(await channel.locator('li[data-field="qty"]').textContent()).to.contain('integer').and.contain('≥ 1');
    expect(await channel.locator('li[data-field="orderId"]').textContent()).to.contain('format uuid');
    expect(JSON.parse((await channel.locator('[data-testid="example"]').textContent())!)).to.deep.equal({ orderId: '3f1c2a7e-5b0e-4a8e-9d6f-0c1d2e3f4a5b', items: [{ sku: 'text', qty: 1 }] });
    expect(await page.locator('article[data-channel="orders.order-created"] .operations').textContent()).to.contain(CONSUMER);
    await shot('contracts');
  });

  it('hides replay and discard when read-only, and says plainly when the management API is unreachable', async () => {
    readOnly = await startConsole([EXAMPLE, '--amqp', scratch!.amqpUrl, '--management', `http://127.0.0.1:${await closedPort()}/`, '--port', '0']);
    expect(readOnly.token).to.equal(undefined);
    await open('#/wiring', readOnly);
    await page.locator('[data-testid="live-state"][data-status="unreachable"]').waitFor();
    expect(await page.locator('[data-testid="live-state"]').textContent()).to.contain('Management API unreachable').and.contain('connection refused');
    expect(await page.locator('[data-testid="mode"]').textContent()).to.equal('read-only');
    await shot('wiring-management-unreachable');
    await open(`#/dead-letters/${CONSUMER}`, readOnly);
    await page.locator('[data-testid="read-only-note"]').waitFor();
    await page.locator('.group table.messages a').first().click();
    await page.locator('[data-testid="message-detail"]').waitFor();
    expect(await page.locator('button', { hasText: /Replay|Discard/ }).count()).to.equal(0);
    await shot('dead-letters-read-only');
  });
});
