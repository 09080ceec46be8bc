import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ApiAnswer, ProductBody } from '../http/openapi.js';
import { CatalogProducts, type ProductView } from './catalog-products.js';

/** `GET /products`: the catalog as the gateway's projection has it. */
@ApiTags('catalog')
@Controller('products')
export class ProductsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly products: CatalogProducts,
  ) {}

  /** `GET /products` -> the catalog, by SKU. */
  @Get()
  @ApiAnswer('List the catalog', 200, 'Every product, by SKU', [ProductBody])
  list(): Promise<ProductView[]> {
    return this.products.list(this.dataSource.manager);
  }
}
