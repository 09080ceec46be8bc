import { currentLogContext } from '@app/platform';
import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard } from '../http/rate-limit.guard.js';
import { OrdersReadModel } from '../order-store/orders-read-model.js';
import { OrderCommandService } from '../order-store/order-command.service.js';
import { ApiAnswer, ApiErrors, OrderAcceptedBody } from '../http/openapi.js';

@ApiTags('orders')
@ApiBearerAuth()
@Controller('orders')
@UseGuards(JwtAuthGuard, OrderWriteLimitGuard)
export class CancelOrderController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly commands: OrderCommandService,
    private readonly views: OrdersReadModel,
  ) {}

  /** `POST /orders/:id/cancel` -> 202; 409 when already cancelled, paid or rejected. */
  @Post(':id/cancel')
  @HttpCode(202)
  @ApiAnswer('Cancel an order', 202, 'Cancelled; its stock is released', OrderAcceptedBody)
  @ApiErrors(
    401,
    [404, 'No such order for this user (also a malformed id)'],
    [409, 'Already cancelled, paid or rejected'],
    429,
  )
  async cancel(
    @CurrentUser() userId: string,
    @Param('id') id: string,
  ): Promise<{ orderId: string; status: string }> {
    await this.views.findOwned(this.dataSource.manager, userId, id);
    const state = await this.commands.execute(
      { type: 'CancelOrder', orderId: id, reason: 'customer' },
      { correlationId: currentLogContext()?.correlationId },
    );
    return { orderId: id, status: state.status };
  }
}
