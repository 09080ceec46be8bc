import { applyApiDocs } from '@app/contracts';
import { bootstrapService } from '@app/platform';
import * as swagger from '@nestjs/swagger';
import helmet from 'helmet';
import { finishDocument } from './http/openapi.js';
import { ORDER_ERROR_STATUS } from './http/order-error-status.js';
import { OrdersModule } from './orders.module.js';

await bootstrapService('orders', {
  module: (config) => OrdersModule.forRoot(config),
  errorStatus: ORDER_ERROR_STATUS,
  opsServer: true,
  configure: (app, config) => {
    app.use(helmet());
    // The shared bodies' and health's OpenAPI decorators wait for @nestjs/swagger.
    applyApiDocs(swagger);
    const document = swagger.SwaggerModule.createDocument(
      app,
      new swagger.DocumentBuilder()
        .setTitle('Commerce gateway')
        .setDescription('Public HTTP API of the commerce services')
        .setVersion('1.0')
        .setLicense('MIT', 'https://opensource.org/licenses/MIT')
        .addServer(`http://localhost:${config.port}`, 'This gateway, run locally')
        .addBearerAuth()
        .build(),
    );
    finishDocument(document);
    swagger.SwaggerModule.setup('docs', app, document);
  },
});
