import { currentLogContext } from '@app/platform';
import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard } from '../http/rate-limit.guard.js';
import { OrdersReadModel } from '../order-store/orders-read-model.js';
import { OrderCommandService } from '../order-store/order-command.service.js';
import { ApiAnswer, ApiErrors, PaymentAcceptedBody } from '../http/openapi.js';
import { PayOrderDto } from './pay-order.dto.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseGuards(JwtAuthGuard, OrderWriteLimitGuard)
export class PayOrderController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly commands: OrderCommandService,
    private readonly views: OrdersReadModel,
  ) {}

  /** `POST /orders/:id/payments` -> 202; 409 unless CONFIRMED, 422 when the amount is not the total. */
  @Post(':id/payments')
  @HttpCode(202)
  @ApiAnswer('Pay a confirmed order', 202, 'Accepted; the order becomes PAID', PaymentAcceptedBody)
  @ApiErrors(
    400,
    401,
    [404, 'No such order for this user (also a malformed id)'],
    [409, 'The order is not CONFIRMED'],
    [422, 'amountCents is not the order total'],
    413,
    429,
  )
  async pay(
    @CurrentUser() userId: string,
    @Param('id') id: string,
    @Body() dto: PayOrderDto,
  ): Promise<{ paymentId: string }> {
    await this.views.findOwned(this.dataSource.manager, userId, id);
    const paymentId = randomUUID();
    await this.commands.execute(
      { type: 'PayOrder', orderId: id, paymentId, amountCents: dto.amountCents },
      { correlationId: currentLogContext()?.correlationId },
    );
    return { paymentId };
  }
}
