// The peer shop's orders gateway: HTTP for the shop (register and token proxied to the users
// microservice with `send`, orders placed here), an Order entity saved and then `order_placed`
// emitted to inventory (a dual write: no outbox, no event store), and, as a hybrid app, the
// consumer of `inventory_reserved` that confirms the order and emits `order_confirmed`.
import {
  BadRequestException,
  Body,
  HttpCode,
  HttpException,
  Post,
  Req,
  UnauthorizedException,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { ClientsModule, EventPattern, Payload } from '@nestjs/microservices';
import { TypeOrmModule, getRepositoryToken } from '@nestjs/typeorm';
import { lastValueFrom } from 'rxjs';
import { EntitySchema, In } from 'typeorm';
import {
  CATALOG,
  controller,
  injectable,
  JWT_SECRET,
  method,
  module,
  ready,
  rmq,
  typeorm,
} from './nest.mjs';

const Order = new EntitySchema({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    customerId: { type: 'uuid' },
    items: { type: 'jsonb' },
    total: { type: 'integer' },
    status: { type: 'varchar' },
    createdAt: { type: 'timestamptz', createDate: true },
    confirmedAt: { type: 'timestamptz', nullable: true },
  },
});

const Product = new EntitySchema({
  name: 'Product',
  tableName: 'products',
  columns: {
    sku: { type: 'varchar', primary: true },
    name: { type: 'varchar' },
    priceCents: { type: 'integer' },
  },
});

class JwtGuard {
  constructor(jwt) {
    this.jwt = jwt;
  }

  async canActivate(context) {
    const request = context.switchToHttp().getRequest();
    const [scheme, token] = (request.headers.authorization ?? '').split(' ');
    if (scheme !== 'Bearer' || !token) throw new UnauthorizedException();
    try {
      request.user = await this.jwt.verifyAsync(token);
      return true;
    } catch {
      throw new UnauthorizedException();
    }
  }
}
injectable(JwtGuard, JwtService);

/** An RPC error from the users service, as the HTTP answer. */
async function rpc(observable) {
  try {
    return await lastValueFrom(observable);
  } catch (error) {
    throw new HttpException(error?.message ?? 'users service failed', 400);
  }
}

class AccountsController {
  constructor(users) {
    this.users = users;
  }

  register(body) {
    return rpc(this.users.send('register', body));
  }

  token(body) {
    return rpc(this.users.send('login', body));
  }
}
controller(AccountsController, '', 'USERS');
method(AccountsController, 'register', [Post('users'), HttpCode(201)], [Body()]);
method(AccountsController, 'token', [Post('auth/token'), HttpCode(200)], [Body()]);

class OrdersController {
  constructor(orders, products, inventory) {
    this.orders = orders;
    this.products = products;
    this.inventory = inventory;
  }

  async place(request, body) {
    const items = body?.items;
    if (!Array.isArray(items) || items.length === 0)
      throw new BadRequestException('items must be a non-empty array');
    const prices = await this.products.findBy({ sku: In(items.map((item) => item.sku)) });
    if (prices.length !== new Set(items.map((item) => item.sku)).size)
      throw new UnprocessableEntityException('unknown sku');
    const priceOf = Object.fromEntries(prices.map((p) => [p.sku, p.priceCents]));
    const total = items.reduce((sum, item) => sum + priceOf[item.sku] * item.quantity, 0);
    const order = await this.orders.save({
      customerId: request.user.sub,
      items,
      total,
      status: 'PENDING',
    });
    this.inventory.emit('order_placed', { orderId: order.id, customerId: order.customerId, items });
    return { orderId: order.id, status: 'PENDING' };
  }
}
controller(
  OrdersController,
  'orders',
  getRepositoryToken(Order),
  getRepositoryToken(Product),
  'INVENTORY',
);
method(OrdersController, 'place', [Post(), HttpCode(202), UseGuards(JwtGuard)], [Req(), Body()]);

class SagaController {
  constructor(orders, email) {
    this.orders = orders;
    this.email = email;
  }

  async reserved({ orderId }) {
    const order = await this.orders.findOneBy({ id: orderId });
    order.status = 'CONFIRMED';
    order.confirmedAt = new Date();
    await this.orders.save(order);
    this.email.emit('order_confirmed', {
      orderId,
      customerId: order.customerId,
      total: order.total,
    });
  }

  async rejected({ orderId }) {
    await this.orders.update({ id: orderId }, { status: 'REJECTED' });
  }
}
controller(SagaController, '', getRepositoryToken(Order), 'EMAIL');
method(SagaController, 'reserved', [EventPattern('inventory_reserved')], [Payload()]);
method(SagaController, 'rejected', [EventPattern('inventory_rejected')], [Payload()]);

class OrdersModule {}
module(OrdersModule, {
  imports: [
    TypeOrmModule.forRoot(typeorm([Order, Product])),
    TypeOrmModule.forFeature([Order, Product]),
    JwtModule.register({ secret: JWT_SECRET }),
    ClientsModule.register([
      { name: 'USERS', ...rmq('users_queue') },
      { name: 'INVENTORY', ...rmq('inventory_queue') },
      { name: 'EMAIL', ...rmq('email_queue') },
    ]),
  ],
  controllers: [AccountsController, OrdersController, SagaController],
  providers: [JwtGuard],
});

const app = await NestFactory.create(OrdersModule, { logger: ['error'] });
app.connectMicroservice(rmq('orders_queue'));
await app.startAllMicroservices();
await app.get(getRepositoryToken(Product)).upsert(
  CATALOG.map(([sku, name, priceCents]) => ({ sku, name, priceCents })),
  ['sku'],
);
await app.listen(Number(process.env.PORT), '127.0.0.1');
ready('orders');
