import { type DataSource } from 'typeorm';
import { type ReadinessCheck } from './health.controller.js';

/** The database answers `SELECT 1`. */
export function databaseCheck(dataSource: DataSource): ReadinessCheck {
  return {
    name: 'database',
    check: async () => {
      await dataSource.query('SELECT 1');
      return true;
    },
  };
}
