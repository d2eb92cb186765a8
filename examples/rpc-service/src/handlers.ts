import { injectable } from 'tsyringe';
import { Consumer, Publisher, route } from '@warren/core';
import { Quote, QuoteRequest } from './messages';
import { PriceList } from './pricing';

// The exchange name can be changed per environment (and per test run): PRICING_EXCHANGE=pricing-staging.
const EXCHANGE = '${PRICING_EXCHANGE:-pricing}';

/** The callers' side: `await app.get(Pricing).quote.request({ sku, qty })` resolves with a validated Quote. */
@Publisher(EXCHANGE)
export class Pricing {
  readonly quote = route('quote.get', QuoteRequest, { reply: Quote });
}

/**
 * The pricing service: `reply: true` says it answers requests — the handler's return value is the
 * reply, a thrown error an error reply. Without it, a message's `replyTo` would not be answered.
 */
@injectable()
export class PricingHandlers {
  constructor(private readonly prices: PriceList) {}

  @Consumer(EXCHANGE, 'quote.get', { queue: `${EXCHANGE}.quotes`, reply: true })
  async quote(request: QuoteRequest): Promise<Quote> {
    return this.prices.quote(request);
  }
}
