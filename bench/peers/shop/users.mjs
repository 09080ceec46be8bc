// The peer shop's users service: a Nest microservice answering `register` and `login` over the
// RMQ transport (request-response), its accounts in a TypeORM entity, and `user_registered`
// emitted to the email service after the save (a dual write: no outbox).
import { JwtModule, JwtService } from '@nestjs/jwt';
import { ClientsModule, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { getRepositoryToken } from '@nestjs/typeorm';
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { EntitySchema } from 'typeorm';
import { controller, JWT_SECRET, method, rmq, startMicroservice } from './nest.mjs';

const scrypt = promisify(scryptCallback);

const User = new EntitySchema({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true, generated: 'uuid' },
    email: { type: 'varchar', unique: true },
    name: { type: 'varchar' },
    passwordHash: { type: 'varchar' },
    createdAt: { type: 'timestamptz', createDate: true },
  },
});

class UsersController {
  constructor(users, jwt, email) {
    this.users = users;
    this.jwt = jwt;
    this.email = email;
  }

  async register({ email, name, password }) {
    if (await this.users.findOneBy({ email })) throw new RpcException('email taken');
    const salt = randomBytes(16);
    const hash = await scrypt(password, salt, 32);
    const user = await this.users.save({
      email,
      name,
      passwordHash: `${salt.toString('hex')}:${hash.toString('hex')}`,
    });
    this.email.emit('user_registered', { userId: user.id, email, name });
    return { id: user.id, email, name };
  }

  async login({ email, password }) {
    const user = await this.users.findOneBy({ email });
    if (!user) throw new RpcException('invalid credentials');
    const [salt, hash] = user.passwordHash.split(':');
    const given = await scrypt(password, Buffer.from(salt, 'hex'), 32);
    if (!timingSafeEqual(given, Buffer.from(hash, 'hex')))
      throw new RpcException('invalid credentials');
    return { accessToken: await this.jwt.signAsync({ sub: user.id }) };
  }
}
controller(UsersController, '', getRepositoryToken(User), JwtService, 'EMAIL');
method(UsersController, 'register', [MessagePattern('register')], [Payload()]);
method(UsersController, 'login', [MessagePattern('login')], [Payload()]);

await startMicroservice('users', {
  entities: [User],
  imports: [
    JwtModule.register({ secret: JWT_SECRET, signOptions: { expiresIn: '1h' } }),
    ClientsModule.register([{ name: 'EMAIL', ...rmq('email_queue') }]),
  ],
  controllers: [UsersController],
});
