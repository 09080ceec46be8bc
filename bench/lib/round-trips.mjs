// Preloaded into every service by the end-to-end benchmark (node --import): counts pg round
// trips, that is the times a client sends a query while it waits for no answer. Queries sent
// behind others still in flight (pg's pipeline mode) share their round trip. The counts go to
// $BENCH_ROUND_TRIPS_DIR/<pid>.json every 250 ms.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(join(process.cwd(), 'package.json'));
const { Client } = require('pg');
const counts = { roundTrips: 0, queries: 0 };
const inFlight = new WeakMap();
const query = Client.prototype.query;
Client.prototype.query = function (...args) {
  const result = query.apply(this, args);
  if (result && typeof result.then === 'function') {
    const waiting = inFlight.get(this) ?? 0;
    if (waiting === 0) counts.roundTrips += 1;
    counts.queries += 1;
    inFlight.set(this, waiting + 1);
    const done = () => inFlight.set(this, (inFlight.get(this) ?? 1) - 1);
    result.then(done, done);
  }
  return result;
};
const file = join(process.env.BENCH_ROUND_TRIPS_DIR ?? '/tmp', `${process.pid}.json`);
setInterval(() => writeFileSync(file, JSON.stringify(counts)), 250).unref();
