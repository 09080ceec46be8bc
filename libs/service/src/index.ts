export * from './messaging-config.js';
export * from './service-module.js';
