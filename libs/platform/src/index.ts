export * from './bootstrap.js';
export * from './duration.js';
export * from './health/health.controller.js';
export * from './health/health.module.js';
