import {
  ACTOR_HEADER,
  AddProductDto,
  AdjustStockDto,
  type AdminProductView,
  IDEMPOTENCY_KEY_HEADER,
  parseIdempotencyKey,
  parseSku,
  type StockAdjustmentView,
  UpdateProductDto,
} from '@app/contracts';
import { InternalCallerGuard } from '@app/platform';
import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ProductCatalog } from './product-catalog.service.js';

/** Who made a change: the admin the gateway names, or the internal caller itself. */
const actorOf = (header: string | undefined) => header?.slice(0, 200) || 'internal';

/**
 * Internal: the catalog's administration, which the gateway's `/admin/products` forwards
 * (caller authentication as every internal endpoint). Errors carry `CATALOG.*` codes, answered
 * through `CATALOG_ERROR_STATUS`.
 */
@Controller('internal/products')
@UseGuards(InternalCallerGuard)
export class ProductsController {
  constructor(private readonly catalog: ProductCatalog) {}

  @Get()
  list(): Promise<AdminProductView[]> {
    return this.catalog.list();
  }

  @Post()
  add(
    @Body() dto: AddProductDto,
    @Headers(ACTOR_HEADER) actor: string | undefined,
  ): Promise<AdminProductView> {
    return this.catalog.add(dto, actorOf(actor));
  }

  @Patch(':sku')
  update(@Param('sku') sku: string, @Body() dto: UpdateProductDto): Promise<AdminProductView> {
    return this.catalog.update(parseSku(sku), dto);
  }

  @Post(':sku/discontinue')
  @HttpCode(200)
  discontinue(@Param('sku') sku: string): Promise<AdminProductView> {
    return this.catalog.discontinue(parseSku(sku));
  }

  @Post(':sku/stock-adjustments')
  adjust(
    @Param('sku') sku: string,
    @Body() dto: AdjustStockDto,
    @Headers(ACTOR_HEADER) actor: string | undefined,
    @Headers(IDEMPOTENCY_KEY_HEADER) idempotencyKey: string | undefined,
  ): Promise<StockAdjustmentView> {
    return this.catalog.adjustStock(
      parseSku(sku),
      dto,
      actorOf(actor),
      parseIdempotencyKey(idempotencyKey),
    );
  }

  @Get(':sku/stock-adjustments')
  adjustments(@Param('sku') sku: string): Promise<StockAdjustmentView[]> {
    return this.catalog.adjustmentsOf(parseSku(sku));
  }
}
