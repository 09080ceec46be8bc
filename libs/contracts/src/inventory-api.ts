import { STOCK_ADJUSTMENT_REASONS, type StockAdjustmentReason } from '@app/events';
import { BadRequestException } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from './api-docs.js';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  NotEquals,
} from 'class-validator';
import { DISPLAY_NAME } from './users-api.js';

/**
 * The internal HTTP API of inventory's catalog administration, which only the gateway calls
 * (`/admin/...` there, `/internal/products/...` here): one definition of the bodies and their
 * rules, validated at the gateway (400 before any call) and again by inventory.
 */

/** The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** The header the gateway names the admin who made a change in (believed from an internal caller only). */
export const ACTOR_HEADER = 'x-actor';

export const SKU_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
const SKU_MESSAGE = 'sku must be 1-64 letters, digits, - or _, starting with a letter or digit';

/** A SKU from a path, checked as the bodies check theirs: 400 otherwise. */
export function parseSku(sku: string): string {
  if (!SKU_PATTERN.test(sku)) throw new BadRequestException(SKU_MESSAGE);
  return sku;
}

/** An optional Idempotency-Key, checked: 400 when it is not 1 to 255 visible ASCII characters. */
export function parseIdempotencyKey(key: string | undefined): string | undefined {
  if (key !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(key))
    throw new BadRequestException('Idempotency-Key must be 1 to 255 visible ASCII characters.');
  return key;
}
const NAME_MESSAGE = 'name must hold a visible character and no control characters or line breaks';
/** The largest price and stock change accepted, in minor units and units. */
export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_STOCK_CHANGE = 1_000_000;

/** `POST /admin/products`: a new product and its first stock. */
export class AddProductDto {
  @ApiProperty({ example: 'DESK-OAK' })
  @IsString()
  @Matches(SKU_PATTERN, { message: SKU_MESSAGE })
  sku!: string;

  @ApiProperty({ example: 'Oak desk' })
  @IsString()
  @Length(1, 200)
  @Matches(DISPLAY_NAME, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ description: 'Unit price in minor units', example: 35_000 })
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  priceCents!: number;

  @ApiProperty({ example: 'EUR', description: 'ISO 4217 code' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be an ISO 4217 code such as EUR' })
  currency!: string;

  @ApiProperty({ minimum: 0, example: 20, description: 'Units received with the product' })
  @IsInt()
  @Min(0)
  @Max(MAX_STOCK_CHANGE)
  initialStock!: number;
}

/** `PATCH /admin/products/{sku}`: a new name, a new price, or both. */
export class UpdateProductDto {
  @ApiPropertyOptional({ example: 'Oak desk, large' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  @Matches(DISPLAY_NAME, { message: NAME_MESSAGE })
  name?: string;

  @ApiPropertyOptional({ description: 'Unit price in minor units', example: 37_500 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  priceCents?: number;
}

/** `POST /admin/products/{sku}/stock-adjustments`. */
export class AdjustStockDto {
  @ApiProperty({ enum: STOCK_ADJUSTMENT_REASONS, example: 'received' })
  @IsIn(STOCK_ADJUSTMENT_REASONS, {
    message: `reason must be one of ${STOCK_ADJUSTMENT_REASONS.join(', ')}`,
  })
  reason!: StockAdjustmentReason;

  @ApiProperty({
    example: 12,
    description: 'Units added (positive) or removed (negative); never below what is reserved',
  })
  @IsInt()
  @NotEquals(0, { message: 'change must not be 0' })
  @Min(-MAX_STOCK_CHANGE)
  @Max(MAX_STOCK_CHANGE)
  change!: number;

  @ApiPropertyOptional({ example: 'Delivery note 4711', maxLength: 500 })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  note?: string;
}

/** A product as administration sees it: the catalog entry and its stock. */
export interface AdminProductView {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  version: number;
  discontinued: boolean;
  onHand: number;
  reserved: number;
  available: number;
}

/** One recorded stock adjustment. */
export interface StockAdjustmentView {
  id: number;
  sku: string;
  reason: StockAdjustmentReason;
  change: number;
  onHand: number;
  actor: string;
  note: string | null;
  madeAt: string;
}
