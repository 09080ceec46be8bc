// npm run seed: adds the development catalog through inventory's admin API (the code path of an
// admin's command: product.added and stock.adjusted through the outbox). Products that exist are
// left alone. INVENTORY_URL (default http://127.0.0.1:3002) and INTERNAL_TOKEN as the services use.
import { ACTOR_HEADER } from '@app/contracts';
import { internalAuthorization, loadServiceConfig } from '@app/platform';
import { SEED_ACTOR, SEED_PRODUCTS } from '../apps/inventory/src/catalog/seed-catalog.js';

async function main(): Promise<number> {
  // INVENTORY_URL, INVENTORY_TIMEOUT and INTERNAL_TOKEN read and checked as the services do.
  const config = loadServiceConfig('inventory');
  const base = config.inventoryUrl;
  let failed = 0;
  for (const product of SEED_PRODUCTS) {
    let answer: Response;
    try {
      answer = await fetch(new URL('/internal/products', base), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [ACTOR_HEADER]: SEED_ACTOR,
          ...internalAuthorization(config),
        },
        body: JSON.stringify(product),
        signal: AbortSignal.timeout(config.inventoryTimeoutMs),
      });
    } catch (error) {
      process.stderr.write(
        `Cannot reach inventory at ${base} (${(error as Error).message}); start it (npm start) or set INVENTORY_URL.\n`,
      );
      return 1;
    }
    if (answer.status === 201) process.stdout.write(`added ${product.sku}\n`);
    else if (answer.status === 409) process.stdout.write(`${product.sku} is there already\n`);
    else {
      failed += 1;
      process.stderr.write(
        `${product.sku}: inventory answered ${answer.status} ${await answer.text()}\n`,
      );
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
