import { Type } from '@sinclair/typebox';
import { defineEvent, type EventData } from '../event-definition.js';
import { Uuid } from '../primitives.js';

/** A customer account was created (producer: users). Never carries the password or its hash. */
export const UserRegisteredV1 = defineEvent(
  'user.registered',
  1,
  Type.Object({
    userId: Uuid('The new account'),
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  }),
);
export type UserRegisteredV1Data = EventData<typeof UserRegisteredV1>;
