export * from './broker.js';
export * from './database.js';
export * from './wait-for.js';
export * from './tcp-proxy.js';
export * from './service-app.js';
export * from './smtp.js';
export * from './suite-fixture.js';
export * from './broker-node.js';
