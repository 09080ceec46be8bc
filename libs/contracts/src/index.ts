export * from './users-api.js';
