import { Body, Controller, Headers, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard } from '../http/rate-limit.guard.js';
import { PlaceOrderDto } from './place-order.dto.js';
import { PlaceOrderService } from './place-order.service.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseGuards(JwtAuthGuard, OrderWriteLimitGuard)
export class PlaceOrderController {
  constructor(private readonly service: PlaceOrderService) {}

  /** `POST /orders` -> 202 `{orderId, status: "PENDING"}`. */
  @Post()
  @HttpCode(202)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiResponse({ status: 202, description: 'Accepted; inventory reserves it next' })
  @ApiResponse({ status: 409, description: 'Idempotency-Key reused with another body' })
  @ApiResponse({ status: 422, description: 'Unknown SKU' })
  place(
    @CurrentUser() userId: string,
    @Body() dto: PlaceOrderDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ): Promise<{ orderId: string; status: string }> {
    return this.service.place(userId, dto, idempotencyKey);
  }
}
