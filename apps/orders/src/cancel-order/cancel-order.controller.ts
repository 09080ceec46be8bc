import { currentLogContext } from '@app/platform';
import { Controller, HttpCode, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentUser, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { OrderWriteLimitGuard } from '../http/rate-limit.guard.js';
import { OrdersReadModel } from '../event-store/orders-read-model.js';
import { OrderCommandService } from '../orders/order-command.service.js';
import { isUuid } from '../query-orders/order-id.js';
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
    if (!isUuid(id) || !(await this.views.find(this.dataSource.manager, userId, id))) {
      throw new NotFoundException(`Order ${id} not found.`);
    }
    const state = await this.commands.execute(
      { type: 'CancelOrder', orderId: id, reason: 'customer' },
      { correlationId: currentLogContext()?.correlationId },
    );
    return { orderId: id, status: state.status };
  }
}
