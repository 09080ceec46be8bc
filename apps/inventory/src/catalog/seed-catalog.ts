import { type AddProductDto } from '@app/contracts';
import { SERVICE_CONFIG, type ServiceConfig } from '@app/platform';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { CatalogError } from './catalog-decision.js';
import { ProductCatalog } from './product-catalog.service.js';

/** The development catalog. `LAMP-LTD` has 10 units on purpose: the race for the last units. */
export const SEED_PRODUCTS: readonly AddProductDto[] = [
  { sku: 'KEYBOARD-MX', name: 'Mechanical keyboard', priceCents: 8_900, initialStock: 100 },
  { sku: 'MOUSE-WL', name: 'Wireless mouse', priceCents: 2_900, initialStock: 200 },
  { sku: 'MONITOR-27', name: '27-inch monitor', priceCents: 24_900, initialStock: 50 },
  {
    sku: 'HEADPHONES-NC',
    name: 'Noise-cancelling headphones',
    priceCents: 12_900,
    initialStock: 80,
  },
  { sku: 'CABLE-USBC', name: 'USB-C cable', priceCents: 990, initialStock: 500 },
  { sku: 'LAMP-LTD', name: 'Limited edition desk lamp', priceCents: 4_500, initialStock: 10 },
].map((product) => ({ ...product, currency: 'EUR' }));

/** The actor the seed's stock records name. */
export const SEED_ACTOR = 'seed';

/**
 * Adds the development catalog's products that inventory lacks, each through
 * `ProductCatalog.add` (the admin command: `product.added` and `stock.adjusted` through the
 * outbox); a product that exists (seeded before, or by a replica booting beside this one) is
 * left as it is. Returns the SKUs it added.
 */
export async function seedCatalog(catalog: ProductCatalog): Promise<string[]> {
  const added: string[] = [];
  for (const product of SEED_PRODUCTS) {
    try {
      await catalog.add(product, SEED_ACTOR);
      added.push(product.sku);
    } catch (error) {
      if (!(error instanceof CatalogError && error.code === 'CATALOG.DUPLICATE_SKU')) throw error;
    }
  }
  return added;
}

/** With `SEED_CATALOG` (on unless set to false), seeds the catalog at boot. */
@Injectable()
export class CatalogSeeder implements OnApplicationBootstrap {
  constructor(
    private readonly catalog: ProductCatalog,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<ServiceConfig, 'seedCatalog'>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.seedCatalog) return;
    const added = await seedCatalog(this.catalog);
    if (added.length)
      new Logger(CatalogSeeder.name).log(
        `Seeded the development catalog: ${added.join(', ')} (SEED_CATALOG=false turns this off)`,
      );
  }
}
