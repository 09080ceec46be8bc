// The peer shop's inventory service: a Nest microservice consuming `order_placed`, reserving
// the stock in a TypeORM transaction (rows locked for update), then emitting
// `inventory_reserved` or `inventory_rejected` after the commit (a dual write: no outbox, and
// with auto-acknowledgement no inbox either).
import { ClientsModule, EventPattern, Payload } from '@nestjs/microservices';
import { getDataSourceToken, getRepositoryToken } from '@nestjs/typeorm';
import { EntitySchema } from 'typeorm';
import { CATALOG, controller, method, rmq, startMicroservice } from './nest.mjs';

const Stock = new EntitySchema({
  name: 'Stock',
  tableName: 'stock',
  columns: {
    sku: { type: 'varchar', primary: true },
    onHand: { type: 'integer' },
  },
});

const Reservation = new EntitySchema({
  name: 'Reservation',
  tableName: 'reservations',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    orderId: { type: 'uuid' },
    sku: { type: 'varchar' },
    quantity: { type: 'integer' },
    createdAt: { type: 'timestamptz', createDate: true },
  },
});

class ReservationsController {
  constructor(dataSource, orders) {
    this.dataSource = dataSource;
    this.orders = orders;
  }

  async reserve({ orderId, items }) {
    const reserved = await this.dataSource.transaction(async (manager) => {
      for (const item of items) {
        const stock = await manager.findOne(Stock, {
          where: { sku: item.sku },
          lock: { mode: 'pessimistic_write' },
        });
        if (!stock || stock.onHand < item.quantity) return false;
        stock.onHand -= item.quantity;
        await manager.save(Stock, stock);
        await manager.save(Reservation, { orderId, sku: item.sku, quantity: item.quantity });
      }
      return true;
    });
    this.orders.emit(reserved ? 'inventory_reserved' : 'inventory_rejected', { orderId });
  }
}
controller(ReservationsController, '', getDataSourceToken(), 'ORDERS');
method(ReservationsController, 'reserve', [EventPattern('order_placed')], [Payload()]);

await startMicroservice('inventory', {
  entities: [Stock, Reservation],
  imports: [ClientsModule.register([{ name: 'ORDERS', ...rmq('orders_queue') }])],
  controllers: [ReservationsController],
  prepare: (app) =>
    app.get(getRepositoryToken(Stock)).upsert(
      CATALOG.map(([sku]) => ({ sku, onHand: Number(process.env.STOCK ?? 1_000_000) })),
      ['sku'],
    ),
});
