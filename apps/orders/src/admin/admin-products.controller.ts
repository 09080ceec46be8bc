import {
  AddProductDto,
  AdjustStockDto,
  type AdminProductView,
  parseIdempotencyKey,
  parseSku,
  type StockAdjustmentView,
  UpdateProductDto,
} from '@app/contracts';
import { Body, Controller, Get, HttpCode, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminGuard, CurrentAdmin, JwtAuthGuard } from '../auth/jwt-auth.guard.js';
import { AdminProductBody, ApiAnswer, ApiErrors, StockAdjustmentBody } from '../http/openapi.js';
import { IdempotencyKey } from '../http/idempotency-key.decorator.js';
import { InventoryClient } from './inventory.client.js';

const NO_SKU: [number, string] = [404, 'No product with this SKU'];

/**
 * The catalog's administration, for tokens with the admin role: forwarded to inventory (which
 * owns products and stock) over internal HTTP. Inventory announces each change with its events;
 * the gateway's catalog (`GET /products`, the prices of new orders) follows once it has
 * consumed them.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/products')
@UseGuards(JwtAuthGuard, AdminGuard)
export class AdminProductsController {
  constructor(private readonly inventory: InventoryClient) {}

  @Get()
  @ApiAnswer('List products with their stock', 200, 'Every product, by SKU', [AdminProductBody])
  @ApiErrors(401, 403, 503)
  list(@CurrentAdmin() admin: string): Promise<AdminProductView[]> {
    return this.inventory.call('GET', '', admin);
  }

  @Post()
  @HttpCode(201)
  @ApiAnswer('Add a product with its first stock', 201, 'The new product', AdminProductBody)
  @ApiErrors(400, 401, 403, [409, 'The SKU is in the catalog already'], 413, 503)
  add(@CurrentAdmin() admin: string, @Body() dto: AddProductDto): Promise<AdminProductView> {
    return this.inventory.call('POST', '', admin, dto);
  }

  @Patch(':sku')
  @ApiParam({ name: 'sku', example: 'KEYBOARD-MX' })
  @ApiAnswer(
    "Change a product's name or price",
    200,
    'The product as it now is; orders placed before keep their price',
    AdminProductBody,
  )
  @ApiErrors(400, 401, 403, NO_SKU, [409, 'Discontinued, or nothing differs'], 413, 503)
  update(
    @CurrentAdmin() admin: string,
    @Param('sku') sku: string,
    @Body() dto: UpdateProductDto,
  ): Promise<AdminProductView> {
    return this.inventory.call('PATCH', `/${parseSku(sku)}`, admin, dto);
  }

  @Post(':sku/discontinue')
  @HttpCode(200)
  @ApiParam({ name: 'sku', example: 'LAMP-LTD' })
  @ApiAnswer(
    'Discontinue a product',
    200,
    'No new orders may hold it; open orders proceed',
    AdminProductBody,
  )
  @ApiErrors(400, 401, 403, NO_SKU, [409, 'Discontinued already'], 503)
  discontinue(@CurrentAdmin() admin: string, @Param('sku') sku: string): Promise<AdminProductView> {
    return this.inventory.call('POST', `/${parseSku(sku)}/discontinue`, admin);
  }

  @Post(':sku/stock-adjustments')
  @HttpCode(201)
  @ApiParam({ name: 'sku', example: 'KEYBOARD-MX' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Optional. A retry with the same key answers the adjustment already recorded instead of adjusting again',
  })
  @ApiAnswer(
    'Receive or correct stock',
    201,
    'The recorded adjustment, with who made it',
    StockAdjustmentBody,
  )
  @ApiErrors(
    400,
    401,
    403,
    NO_SKU,
    [409, 'Stock on hand would fall below what open orders reserve, or Idempotency-Key reused'],
    413,
    [422, 'The change has the wrong sign for its reason'],
    503,
  )
  adjust(
    @CurrentAdmin() admin: string,
    @Param('sku') sku: string,
    @Body() dto: AdjustStockDto,
    @IdempotencyKey() idempotencyKey?: string,
  ): Promise<StockAdjustmentView> {
    return this.inventory.call(
      'POST',
      `/${parseSku(sku)}/stock-adjustments`,
      admin,
      dto,
      parseIdempotencyKey(idempotencyKey),
    );
  }

  @Get(':sku/stock-adjustments')
  @ApiParam({ name: 'sku', example: 'KEYBOARD-MX' })
  @ApiAnswer("List a product's stock adjustments", 200, 'Oldest first', [StockAdjustmentBody])
  @ApiErrors(400, 401, 403, NO_SKU, 503)
  adjustments(
    @CurrentAdmin() admin: string,
    @Param('sku') sku: string,
  ): Promise<StockAdjustmentView[]> {
    return this.inventory.call('GET', `/${parseSku(sku)}/stock-adjustments`, admin);
  }
}
