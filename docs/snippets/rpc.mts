// The code blocks of docs/rpc.md, compiled; docs.test.ts checks each region equals its block.
import { injectable } from 'tsyringe';
import { Consumer, Publisher, route, type Warren } from '@warren/core';

declare class QuoteRequest { sku: string; }
declare class Quote { cents: number; }
declare class PriceList { lookup(sku: string): Promise<number>; }
declare const app: Warren;

// #region rpc-1
@injectable()
export class PricingHandlers {
  constructor(private readonly prices: PriceList) {}

  @Consumer('pricing', 'quote.get', { queue: 'pricing.quotes', reply: true })
  async quote(request: QuoteRequest): Promise<Quote> {
    return { cents: await this.prices.lookup(request.sku) };
  }
}
// #endregion rpc-1

// #region rpc-2
@Publisher('pricing')
export class Pricing {
  readonly quote = route('quote.get', QuoteRequest, { reply: Quote });
}

const quote: Quote = await app.get(Pricing).quote.request({ sku: 'A-1' }, { timeoutMs: 5000 });
// #endregion rpc-2
