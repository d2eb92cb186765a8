import 'reflect-metadata';
import { expect } from 'chai';
import { IsInt, IsString, Min } from 'class-validator';
import { injectable } from 'tsyringe';
import { Consumer, MessageContext, Publisher, reject, retryLater, route } from '@warren/core';
import { TestApp } from '../src';
import { afterEachCleanup } from './support/cleanup';

class Payment {
  @IsString() invoice!: string;
  @IsInt() @Min(1) cents!: number;
}

class Receipt {
  @IsString() invoice!: string;
  @IsInt() total!: number;
}

/** A dependency the tests replace with a fake. */
@injectable()
class Ledger {
  book(_invoice: string, _cents: number): void {
    throw new Error('the real ledger is not available in tests');
  }
}

@Publisher('receipts', { type: 'topic' })
class Receipts {
  readonly issued = route('receipt.issued', Receipt);
}

@injectable()
class Payments {
  static attempts = 0;
  constructor(private readonly ledger: Ledger, private readonly receipts: Receipts) {}

  @Consumer('payments', 'payment.received', { queue: 'payments.received' })
  async received(payment: Payment, ctx: MessageContext) {
    this.ledger.book(payment.invoice, payment.cents);
    await this.receipts.issued({ invoice: payment.invoice, total: payment.cents }, { correlationId: ctx.messageId });
  }

  @Consumer('payments', 'payment.flaky', { queue: 'payments.flaky', retry: { attempts: 3, delay: 10 } })
  async flaky(_payment: Payment) {
    Payments.attempts++;
    if (Payments.attempts < 3) throw retryLater(10, 'bank timeout');
  }

  @Consumer('payments', 'payment.fraud', { queue: 'payments.fraud' })
  async fraud(_payment: Payment) {
    throw reject('flagged as fraud');
  }

  @Consumer('payments', 'payment.total', { queue: 'payments.total' })
  async total(payment: Payment): Promise<Receipt> {
    return { invoice: payment.invoice, total: payment.cents * 2 };
  }
}

/** A stream consumer: its stream keeps every message, so the harness cannot wait for it to be empty. */
class PaymentLog {
  static readonly seen: Array<{ invoice: string; offset?: number }> = [];

  @Consumer('payments', 'payment.#', { exchangeType: 'topic', queue: 'payments.log', queueType: 'stream', offset: 'first', retry: { attempts: 2, delay: 5 } })
  async record(payment: Payment, ctx: MessageContext) {
    if (payment.cents === 13 && ctx.attempt === 1) throw new Error('unlucky');
    PaymentLog.seen.push({ invoice: payment.invoice, offset: ctx.streamOffset });
  }
}

describe('TestApp with a stream consumer', () => {
  let t: TestApp;
  beforeEach(async () => {
    PaymentLog.seen.length = 0;
    t = await TestApp.create({ handlers: [PaymentLog] });
  });
  afterEachCleanup('close the test app', () => t.close());

  it('waits until the stream\'s reader has handled every message, and reports in-process retries', async () => {
    for (let i = 0; i < 20; i++) await t.app.publish('payments', 'payment.received', { invoice: `INV-${i}`, cents: 1 });
    await t.idle();
    expect(PaymentLog.seen.map((s) => s.offset)).to.have.length(20);
    const outcome = await t.publish('payments', 'payment.received', { invoice: 'INV-13', cents: 13 });
    expect(outcome).to.include({ status: 'handled', retries: 1 });
  });
});

describe('TestApp', () => {
  const booked: Array<[string, number]> = [];
  let t: TestApp;

  beforeEach(async () => {
    booked.length = 0;
    Payments.attempts = 0;
    t = await TestApp.create({
      handlers: [Payments],
      providers: [{ provide: Ledger, useValue: { book: (invoice: string, cents: number) => booked.push([invoice, cents]) } }],
    });
  });

  afterEachCleanup('close the test app', () => t.close());

  it('runs a handler with its dependencies replaced by fakes', async () => {
    const outcome = await t.publish('payments', 'payment.received', { invoice: 'INV-1', cents: 500 });
    expect(outcome.status).to.equal('handled');
    expect(outcome.consumer).to.equal('Payments.received');
    expect(booked).to.deep.equal([['INV-1', 500]]);
  });

  it('shows what the handler published', async () => {
    const outcome = await t.publish('payments', 'payment.received', { invoice: 'INV-2', cents: 700 });
    const [receipt] = t.published({ exchange: 'receipts', routingKey: 'receipt.issued' });
    expect(receipt?.payload).to.deep.equal({ invoice: 'INV-2', total: 700 });
    expect(receipt?.message.properties.correlationId).to.equal(outcome.messageId);
  });

  it('resolves with the validation error of a dead-lettered payload', async () => {
    const outcome = await t.publish('payments', 'payment.received', { invoice: 'INV-3', cents: 0 });
    expect(outcome.status).to.equal('dead-lettered');
    expect(outcome.error?.code).to.equal('VALIDATION_FAILED');
    expect(booked).to.be.empty;
  });

  it('lists dead letters with their reason headers, and leaves them in place', async () => {
    await t.publish('payments', 'payment.fraud', { invoice: 'INV-4', cents: 100 });
    const first = await t.deadLetters('payments.fraud');
    const again = await t.deadLetters('payments.fraud');
    expect(first).to.have.length(1);
    expect(first[0]!.headers['x-warren-error-code']).to.equal('REJECTED');
    expect(first[0]!.headers['x-warren-error-message']).to.equal('flagged as fraud');
    expect(first[0]!.payload).to.deep.equal({ invoice: 'INV-4', cents: 100 });
    expect(again).to.deep.equal(first);
  });

  it('counts delayed retries before the final outcome', async () => {
    const outcome = await t.publish('payments', 'payment.flaky', { invoice: 'INV-5', cents: 100 });
    expect(outcome.status).to.equal('handled');
    expect(outcome.retries).to.equal(2);
    expect(Payments.attempts).to.equal(3);
  });

  it('lists a delayed send by its destination and delay, leaves retries out, and idle() waits for it', async () => {
    await t.publish('payments', 'payment.flaky', { invoice: 'INV-7', cents: 100 });
    await t.get(Receipts).issued({ invoice: 'INV-7', total: 100 }, { delay: 300 });
    const sent = t.published({ exchange: 'receipts' });
    expect(sent.map((m) => [m.routingKey, m.payload])).to.deep.equal([['receipt.issued', { invoice: 'INV-7', total: 100 }]]);
    // What is left of the 300 ms once the cascade was declared (the first delayed send declares it).
    expect(sent[0]!.delayMs).to.be.within(250, 300);
    expect(sent[0]!.message.exchange, 'what entered the cascade').to.equal('warren.delay.classic.08');
    expect(t.published().filter((m) => m.exchange.startsWith('warren.delay.')), 'retries are Warren\'s, not the code\'s').to.deep.equal([]);
    const started = Date.now();
    await t.idle();
    expect(Date.now() - started, 'idle waited for the delayed receipt').to.be.at.least(200);
  });

  it('reports the value a handler returns for a request', async () => {
    const outcome = await t.publish('payments', 'payment.total', { invoice: 'INV-6', cents: 21 });
    expect(outcome.status).to.equal('handled');
    expect(outcome.result).to.deep.equal({ invoice: 'INV-6', total: 42 });
  });

  it('waits until every message is handled', async () => {
    for (let i = 0; i < 20; i++) await t.app.publish('payments', 'payment.received', { invoice: `INV-${i}`, cents: 1 });
    await t.idle();
    expect(booked).to.have.length(20);
  });

  it('rejects when nothing consumes the message', async () => {
    const quick = await TestApp.create({ handlers: [Payments], timeoutMs: 100, providers: [{ provide: Ledger, useValue: { book() {} } }] });
    try {
      let error: unknown;
      try {
        await quick.publish('payments', 'nobody.listens', { invoice: 'x', cents: 1 });
      } catch (e) {
        error = e;
      }
      expect(String(error)).to.match(/No consumer settled message/);
    } finally {
      await quick.close();
    }
  });
});
