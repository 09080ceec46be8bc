export * from './api-docs.js';
export * from './users-api.js';
export * from './inventory-api.js';
