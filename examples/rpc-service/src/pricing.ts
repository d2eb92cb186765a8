import { singleton } from 'tsyringe';
import { WarrenError } from '@warren/core';
import type { Quote, QuoteRequest } from './messages';

/** Orders of this many units or more get {@link BULK_DISCOUNT_PERCENT} off. */
export const BULK_QUANTITY = 10;
export const BULK_DISCOUNT_PERCENT = 10;

/**
 * A product the price list does not know. Permanent: asking again cannot help, so the caller gets
 * an error reply with the code `UNKNOWN_SKU` at once (and the request is not retried).
 */
export class UnknownSkuError extends WarrenError {
  constructor(sku: string) {
    super('UNKNOWN_SKU', `No price for "${sku}": check the SKU against the catalogue.`, { permanent: true });
  }
}

/** Unit prices in cents. Stands in for a database or a pricing engine. */
@singleton()
export class PriceList {
  private readonly unitCents = new Map([['BOOK-1', 1250], ['PEN-1', 199]]);

  /** The quote for a request, with the bulk discount applied. */
  quote(request: QuoteRequest): Quote {
    const unitCents = this.unitCents.get(request.sku);
    if (unitCents === undefined) throw new UnknownSkuError(request.sku);
    const discountPercent = request.qty >= BULK_QUANTITY ? BULK_DISCOUNT_PERCENT : 0;
    const totalCents = Math.round((unitCents * request.qty * (100 - discountPercent)) / 100);
    return { sku: request.sku, qty: request.qty, unitCents, discountPercent, totalCents };
  }
}
