import { type MigrationInterface } from 'typeorm';

/**
 * Once the seed catalog (its rows and hand-written outbox rows). It no longer writes anything:
 * the development catalog is added through the admin command's code path (`seedCatalog`, at
 * boot with `SEED_CATALOG`, or `npm run seed`). It stays in the list under its name so that
 * databases it ran on keep their products and do not run it again; ProductAdmin1797000000001
 * leaves those products in place at version 1.
 */
export class SeedCatalog1764200000001 implements MigrationInterface {
  name = 'SeedCatalog1764200000001';

  async up(): Promise<void> {}

  async down(): Promise<void> {}
}
