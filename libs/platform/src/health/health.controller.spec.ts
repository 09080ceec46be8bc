import { describe, expect, it } from '@jest/globals';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController, READINESS_CHECKS } from './health.controller.js';

const boot = async (checks: { name: string; check: () => boolean }[]) => {
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false })],
    controllers: [HealthController],
    providers: [{ provide: READINESS_CHECKS, useValue: checks }],
  }).compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
};

describe('HealthController (boots under Jest ESM)', () => {
  it('is live without checking dependencies, and ready when every check is up', async () => {
    const app = await boot([{ name: 'database', check: () => true }]);
    const controller = app.get(HealthController);
    expect(await controller.live()).toMatchObject({ status: 'ok' });
    expect(await controller.ready()).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' } },
    });
    await app.close();
  });

  it('is not ready, 503, when a check is down', async () => {
    const app = await boot([
      { name: 'database', check: () => true },
      { name: 'broker', check: () => false },
    ]);
    await expect(app.get(HealthController).ready()).rejects.toMatchObject({
      status: 503,
      response: { status: 'error', error: { broker: { status: 'down' } } },
    });
    await app.close();
  });
});
