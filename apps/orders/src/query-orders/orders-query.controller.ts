import { BadRequestException, Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderEventStore } from '../order-store/order-event-store.js';
import { isOrderId, OrdersReadModel, type OrderView } from '../order-store/orders-read-model.js';
import { ApiAnswer, ApiErrors, OrderBody, OrderEventBody, OrderPageBody } from '../http/openapi.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseGuards(JwtAuthGuard)
export class OrdersQueryController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly views: OrdersReadModel,
    private readonly streams: OrderEventStore,
  ) {}

  /** `GET /orders?limit=&cursor=` -> own orders, newest first, with `nextCursor`. */
  @Get()
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `1 to ${MAX_PAGE_SIZE}, default ${DEFAULT_PAGE_SIZE}`,
  })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiAnswer('List my orders, newest first', 200, 'A page of orders', OrderPageBody)
  @ApiErrors([400, 'limit or cursor is invalid'], 401)
  async list(
    @CurrentUser() userId: string,
    @Query('limit') limitText?: string,
    @Query('cursor') cursor?: string,
  ): Promise<{ items: OrderView[]; nextCursor: string | null }> {
    const limit = limitText === undefined ? DEFAULT_PAGE_SIZE : Number(limitText);
    if (
      typeof limitText !== 'undefined' &&
      (typeof limitText !== 'string' ||
        !/^\d+$/.test(limitText) ||
        limit < 1 ||
        limit > MAX_PAGE_SIZE)
    ) {
      throw new BadRequestException(`limit must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
    }
    const after = cursor === undefined ? undefined : decodeCursor(cursor);
    const page = await this.views.page(this.dataSource.manager, userId, limit, after);
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  }

  /** `GET /orders/:id` -> the order, 404 for another user's order or a malformed id. */
  @Get(':id')
  @ApiAnswer('Read an order', 200, 'The order', OrderBody)
  @ApiErrors(401, [404, 'No such order for this user (also a malformed id)'])
  async get(@CurrentUser() userId: string, @Param('id') id: string): Promise<OrderView> {
    return this.views.findOwned(this.dataSource.manager, userId, id);
  }

  /** `GET /orders/:id/events` -> the order's event stream, oldest first. */
  @Get(':id/events')
  @ApiAnswer("Read an order's events, oldest first", 200, 'The event stream', [OrderEventBody])
  @ApiErrors(401, [404, 'No such order for this user (also a malformed id)'])
  async events(
    @CurrentUser() userId: string,
    @Param('id') id: string,
  ): Promise<
    { type: string; version: number; sequence: number; occurredAt: string; data: unknown }[]
  > {
    await this.views.findOwned(this.dataSource.manager, userId, id);
    const events = await this.streams.read(this.dataSource.manager, id);
    return events.map((event) => ({
      type: event.type,
      version: event.eventVersion,
      sequence: event.version,
      occurredAt: event.occurredAt.toISOString(),
      data: event.data,
    }));
  }
}

function encodeCursor(position: { createdAt: string; orderId: string }): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.orderId])).toString('base64url');
}

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)$/;

/** A timestamp as PostgreSQL writes `timestamptz::text`, with a date that exists. */
function isTimestamp(text: string): boolean {
  const match = TIMESTAMP.exec(text);
  if (!match) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = match
    .slice(1, 7)
    .map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 60
  );
}

function decodeCursor(cursor: unknown): { createdAt: string; orderId: string } {
  try {
    if (typeof cursor !== 'string') throw new Error('not a string');
    const [createdAt, orderId] = JSON.parse(
      Buffer.from(cursor, 'base64url').toString('utf8'),
    ) as unknown[];
    if (
      typeof createdAt !== 'string' ||
      !isTimestamp(createdAt) ||
      typeof orderId !== 'string' ||
      !isOrderId(orderId)
    ) {
      throw new Error('bad shape');
    }
    return { createdAt, orderId };
  } catch {
    throw new BadRequestException('cursor is not a cursor returned by GET /orders.');
  }
}
