import { type DecodedEvent } from '@app/events';
import { SuiteFixture, waitFor } from '@app/testing';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  type PipeTransform,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { type Observable, tap } from 'rxjs';
import { orderPlaced, publishRaw, startService, type TestService } from '../../test/harness.js';
import { type EventContext } from './event-context.js';
import { EventHandler } from './event-handler.decorator.js';
import { EventContextParam, EventPayload } from './event-params.decorator.js';

const seen: string[] = [];

@Injectable()
class RefuseBlockedSkus implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    seen.push(`guard:${context.getType()}`);
    const event = context.getArgByIndex<DecodedEvent<'order.placed'>>(0);
    return event.data.items[0]?.sku !== 'BLOCKED';
  }
}

@Injectable()
class Timing implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.push('interceptor:before');
    return next.handle().pipe(tap(() => seen.push('interceptor:after')));
  }
}

@Injectable()
class SkusOnly implements PipeTransform<DecodedEvent<'order.placed'>, string[]> {
  transform(event: DecodedEvent<'order.placed'>): string[] {
    return event.data.items.map((item) => item.sku);
  }
}

@Injectable()
class EnhancedHandler {
  @EventHandler('order.placed', { id: 'guarded-reserve' })
  @UseGuards(RefuseBlockedSkus)
  @UseInterceptors(Timing)
  async handle(
    @EventPayload(SkusOnly) skus: string[],
    @EventContextParam() context: EventContext,
  ): Promise<void> {
    seen.push(`handler:${skus.join(',')}`);
    await context.manager.query(
      `INSERT INTO test_effects (handler, event_id, data) VALUES ('enhanced', $1, $2)`,
      [context.delivery.messageId, JSON.stringify(skus)],
    );
  }
}

describe('Nest guards, interceptors and pipes around event handlers', () => {
  let fixture: SuiteFixture;
  let service: TestService;

  beforeAll(async () => {
    fixture = await SuiteFixture.create('enhancers');
    service = await startService({
      service: 'inventory',
      amqpUrl: fixture.vhost.url,
      databaseUrl: fixture.database.url,
      providers: [EnhancedHandler, RefuseBlockedSkus, Timing, SkusOnly],
      messaging: { retryDelaysMs: [50] },
    });
  });

  afterAll(async () => {
    await service?.close();
    await fixture?.dispose();
  });

  it('runs the guard, the interceptor and the parameter pipe around the handler', async () => {
    const event = orderPlaced({ items: [{ sku: 'SKU-7', quantity: 1, unitPriceCents: 1 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    await waitFor('the handler', () => seen.includes('interceptor:after'));
    expect(seen).toEqual([
      'guard:amqp',
      'interceptor:before',
      'handler:SKU-7',
      'interceptor:after',
    ]);
  });

  it('treats a refusing guard as a handler error: retried, then dead-lettered', async () => {
    seen.length = 0;
    const event = orderPlaced({ items: [{ sku: 'BLOCKED', quantity: 1, unitPriceCents: 1 }] });
    await publishRaw(fixture.probe, 'orders.events', 'order.placed', event);
    const [dead] = await waitFor('the dead letter', async () => {
      const messages = await fixture.probe.drain('inventory.order.placed.dlq');
      return messages.length ? messages : undefined;
    });
    expect(dead?.properties.headers).toMatchObject({
      'x-exception-type': 'handler-error',
      'x-retry-count': 1,
    });
    expect(String(dead?.properties.headers?.['x-exception-message'])).toContain('Forbidden');
    expect(seen.filter((entry) => entry.startsWith('handler'))).toEqual([]);
  });
});
