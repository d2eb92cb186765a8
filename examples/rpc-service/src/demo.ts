import 'reflect-metadata';
import { configFromEnv, RemoteError, Warren } from '@warren/core';
import { Pricing, PricingHandlers } from './handlers';

/**
 * Service and caller in one process: two quotes (one with the bulk discount) and a request for an
 * unknown product, which comes back as a typed error reply instead of a timeout.
 */
async function main(): Promise<void> {
  const app = await Warren.start({ name: 'pricing-demo', handlers: [PricingHandlers], ...configFromEnv(process.env) });
  try {
    const pricing = app.get(Pricing);
    for (const request of [{ sku: 'BOOK-1', qty: 2 }, { sku: 'PEN-1', qty: 12 }]) {
      const quote = await pricing.quote.request(request, { timeoutMs: 5000 });
      console.log(`${quote.qty} × ${quote.sku}: ${quote.totalCents} cents (${quote.discountPercent} % off)`);
    }
    try {
      await pricing.quote.request({ sku: 'NOPE-1', qty: 1 }, { timeoutMs: 5000 });
    } catch (error) {
      if (!(error instanceof RemoteError)) throw error;
      console.log(`error reply ${error.remoteCode}: ${error.message}`);
    }
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
