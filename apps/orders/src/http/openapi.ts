import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  type OpenAPIObject,
} from '@nestjs/swagger';

/**
 * The schemas and decorators of the gateway's OpenAPI document (`/docs`, `/docs-json`): every
 * answer of docs/contract.md section 3 with its schema and an example, one error schema for
 * every error, and `security: []` on the public operations.
 */

const ORDER_ID = '3f0c8f8e-1d2b-4c55-9a1e-6a3b2d9c4e71';
const USER_ID = '9b2e4a57-0c3d-4e8f-b1a6-2d7c5e9f0a13';

/** The body of every error answer: `{statusCode, error, message}`. */
export class ErrorBody {
  @ApiProperty({ example: 400 })
  statusCode!: number;
  @ApiProperty({ example: 'Bad Request', description: "The status's reason phrase" })
  error!: string;
  @ApiProperty({ example: 'items must contain at least 1 elements', description: 'What failed' })
  message!: string;
}

export class AccountBody {
  @ApiProperty({ format: 'uuid', example: USER_ID })
  id!: string;
  @ApiProperty({ format: 'email', example: 'ada@example.com' })
  email!: string;
  @ApiProperty({ example: 'Ada' })
  name!: string;
}

export class TokenBody {
  @ApiProperty({ description: 'EdDSA JWT', example: 'eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9...' })
  accessToken!: string;
  @ApiProperty({ enum: ['Bearer'], example: 'Bearer' })
  tokenType!: 'Bearer';
  @ApiProperty({ description: 'Seconds the token lives', example: 3600 })
  expiresIn!: number;
}

export class ProductBody {
  @ApiProperty({ example: 'KEYBOARD-MX' })
  sku!: string;
  @ApiProperty({ example: 'Mechanical keyboard' })
  name!: string;
  @ApiProperty({ description: 'Unit price in minor units', example: 8900 })
  priceCents!: number;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
}

export class AdminProductBody extends ProductBody {
  @ApiProperty({ description: 'Bumped by every change of the product', example: 2 })
  version!: number;
  @ApiProperty({ description: 'No new orders once true', example: false })
  discontinued!: boolean;
  @ApiProperty({ example: 100 })
  onHand!: number;
  @ApiProperty({ description: 'Held by open orders', example: 4 })
  reserved!: number;
  @ApiProperty({ description: 'onHand less reserved', example: 96 })
  available!: number;
}

export class StockAdjustmentBody {
  @ApiProperty({ example: 7 })
  id!: number;
  @ApiProperty({ example: 'KEYBOARD-MX' })
  sku!: string;
  @ApiProperty({ enum: ['received', 'damaged', 'count-correction'], example: 'received' })
  reason!: string;
  @ApiProperty({ description: 'Units added (positive) or removed (negative)', example: 20 })
  change!: number;
  @ApiProperty({ description: 'Stock on hand after the change', example: 120 })
  onHand!: number;
  @ApiProperty({ description: 'Who made it', example: `ada@example.com (${USER_ID})` })
  actor!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Delivery note 4711' })
  note!: string | null;
  @ApiProperty({ format: 'date-time', example: '2026-12-03T10:15:30.000Z' })
  madeAt!: string;
}

export class OrderAcceptedBody {
  @ApiProperty({ format: 'uuid', example: ORDER_ID })
  orderId!: string;
  @ApiProperty({ example: 'PENDING', description: 'PENDING when placed, CANCELLED when cancelled' })
  status!: string;
}

export class PaymentAcceptedBody {
  @ApiProperty({ format: 'uuid', example: 'c7d1e2f3-4a5b-4c6d-8e9f-0a1b2c3d4e5f' })
  paymentId!: string;
}

export class OrderItemBody {
  @ApiProperty({ example: 'KEYBOARD-MX' })
  sku!: string;
  @ApiProperty({ example: 2 })
  quantity!: number;
  @ApiProperty({ description: 'The price when the order was placed', example: 8900 })
  unitPriceCents!: number;
}

export class OrderBody {
  @ApiProperty({ format: 'uuid', example: ORDER_ID })
  orderId!: string;
  @ApiProperty({ format: 'uuid', example: USER_ID })
  userId!: string;
  @ApiProperty({
    enum: ['PENDING', 'CONFIRMED', 'REJECTED', 'PAID', 'CANCELLED'],
    example: 'CONFIRMED',
  })
  status!: string;
  @ApiProperty({ type: [OrderItemBody] })
  items!: OrderItemBody[];
  @ApiProperty({ example: 17800 })
  totalCents!: number;
  @ApiProperty({ example: 'EUR' })
  currency!: string;
  @ApiProperty({ description: "The aggregate's version", example: 2 })
  version!: number;
}

export class OrderPageBody {
  @ApiProperty({ type: [OrderBody] })
  items!: OrderBody[];
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'Pass as cursor for the next page; null on the last page',
    example: null,
  })
  nextCursor!: string | null;
}

export class OrderEventBody {
  @ApiProperty({ example: 'order.confirmed' })
  type!: string;
  @ApiProperty({ description: 'Schema version of data', example: 1 })
  version!: number;
  @ApiProperty({ description: 'Position in the order stream, from 1', example: 2 })
  sequence!: number;
  @ApiProperty({ format: 'date-time', example: '2026-12-03T10:15:30.000Z' })
  occurredAt!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { orderId: ORDER_ID } })
  data!: Record<string, unknown>;
}

const ERROR_MEANING: Record<number, string> = {
  400: 'The body, a parameter or a header is invalid (the message says which)',
  401: 'Missing, expired or invalid credentials (WWW-Authenticate: Bearer)',
  403: "The token is not an administrator's",
  404: 'No such order for this user',
  409: 'Conflicts with the current state (the message says which)',
  413: 'The body is larger than 64 KiB',
  422: 'Well formed but impossible (the message says why)',
  429: 'Too many requests: wait Retry-After seconds (RateLimit-* headers)',
  503: 'A service this one needs is unavailable: retry later',
};

/** Documents the error answers of an operation, each with the shared error schema. */
export function ApiErrors(
  ...answers: (number | [status: number, description: string])[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorBody),
    ...answers.map((answer) => {
      const [status, description] = Array.isArray(answer)
        ? answer
        : [answer, ERROR_MEANING[answer]!];
      return ApiResponse({ status, description, type: ErrorBody });
    }),
  );
}

/** A summary and the success answer of an operation. */
export function ApiAnswer(
  summary: string,
  status: number,
  description: string,
  type?: ApiResponseType,
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiOperation({ summary }),
    ApiResponse({ status, description, ...(type ? { type } : {}) }),
  );
}

type ApiResponseType = Type<unknown> | [Type<unknown>];

/**
 * Finishes the generated document: the operations without a security requirement are public
 * (`security: []`), so a client knows they need no token.
 */
export function finishDocument(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths))
    for (const method of ['get', 'put', 'post', 'delete', 'patch'] as const) {
      const operation = path[method];
      if (operation && !operation.security) operation.security = [];
    }
  return document;
}
