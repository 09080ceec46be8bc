export * from './users-api.js';
export * from './inventory-api.js';
