import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard } from '../http/rate-limit.guard.js';
import { PlaceOrderDto } from './place-order.dto.js';
import { PlaceOrderService } from './place-order.service.js';
import { IdempotencyKey } from '../http/idempotency-key.decorator.js';
import { ApiAnswer, ApiErrors, OrderAcceptedBody } from '../http/openapi.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseGuards(JwtAuthGuard, OrderWriteLimitGuard)
export class PlaceOrderController {
  constructor(private readonly service: PlaceOrderService) {}

  /** `POST /orders` -> 202 `{orderId, status: "PENDING"}`. */
  @Post()
  @HttpCode(202)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Optional. The same key with the same body answers the first order again; with another body, 409',
  })
  @ApiAnswer('Place an order', 202, 'Accepted; inventory reserves it next', OrderAcceptedBody)
  @ApiErrors(
    400,
    401,
    [409, 'Idempotency-Key reused with another body'],
    413,
    [422, 'Unknown or discontinued SKU'],
    [429, 'Too many order writes, or MAX_OPEN_ORDERS open orders: wait Retry-After seconds'],
  )
  place(
    @CurrentUser() userId: string,
    @Body() dto: PlaceOrderDto,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<{ orderId: string; status: string }> {
    return this.service.place(userId, dto, idempotencyKey);
  }
}
