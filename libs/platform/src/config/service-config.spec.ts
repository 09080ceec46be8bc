import { describe, expect, it } from '@jest/globals';
import { loadServiceConfig, redact } from './service-config.js';

describe('loadServiceConfig', () => {
  it('seeds the demo catalog unless SEED_CATALOG is false, and takes true or false only', () => {
    expect(loadServiceConfig('inventory', {}).seedCatalog).toBe(true);
    expect(loadServiceConfig('inventory', { SEED_CATALOG: 'false' }).seedCatalog).toBe(false);
    expect(() => loadServiceConfig('inventory', { SEED_CATALOG: 'yes' })).toThrow(
      'SEED_CATALOG="yes" must be true or false.',
    );
  });

  it('reads where the gateway reaches inventory, and its timeout', () => {
    const config = loadServiceConfig('orders', {
      INVENTORY_URL: 'http://inventory:3002',
      INVENTORY_TIMEOUT: '500ms',
    });
    expect(config).toMatchObject({
      inventoryUrl: 'http://inventory:3002',
      inventoryTimeoutMs: 500,
    });
    expect(loadServiceConfig('orders', {}).inventoryUrl).toBe('http://127.0.0.1:3002');
  });

  it('keeps RETRY_DELAYS as written beside the milliseconds', () => {
    const config = loadServiceConfig('inventory', { RETRY_DELAYS: ' 500ms, 60s ,1m' });
    expect(config.retryDelaysMs).toEqual([500, 60_000, 60_000]);
    expect(config.retryDelayLabels).toEqual(['500ms', '60s', '1m']);
  });

  it('takes AMQP_URL as one broker or the nodes of a cluster, comma-separated', () => {
    const list = 'amqp://u:p@rabbit-1:5672/v, amqp://u:p@rabbit-2:5672/v';
    expect(loadServiceConfig('inventory', { AMQP_URL: list }).amqpUrl).toBe(
      'amqp://u:p@rabbit-1:5672/v,amqp://u:p@rabbit-2:5672/v',
    );
  });

  it('names the variable when one node of the list is not an AMQP URL', () => {
    expect(() =>
      loadServiceConfig('inventory', { AMQP_URL: 'amqp://rabbit-1:5672,http://rabbit-2' }),
    ).toThrow('AMQP_URL="http://rabbit-2/" must start with amqp: or amqps://.');
  });

  it('hides the password of every node of a list', () => {
    expect(redact('amqp://u:secret@a:5672/v,amqp://u:secret@b:5672/v')).toBe(
      'amqp://u:***@a:5672/v,amqp://u:***@b:5672/v',
    );
  });
});
