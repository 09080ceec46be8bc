import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { HealthController } from './health.controller.js';
import { HealthModule } from './health.module.js';

describe('HealthModule under Jest ESM', () => {
  it('boots a Nest module and resolves its controller through DI', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [HealthModule] }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    expect(app.get(HealthController).live()).toEqual({ status: 'ok' });
    await app.close();
  });
});
