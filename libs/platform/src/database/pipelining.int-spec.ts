import { createTestDatabase, type TestDatabase, waitFor } from '@app/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import net from 'node:net';
import { DataSource, type EntitySubscriberInterface, type TransactionCommitEvent } from 'typeorm';
import { dataSourceOptions } from './database.js';
import { isDatabaseUnavailable } from './database-unavailable.js';
import { pipelined, transaction } from './pipelining.js';

/**
 * A proxy in front of PostgreSQL that can hold back the server's answers and counts the
 * queries the client sends meanwhile: a client that waits for each answer sends one, a
 * pipelining client sends them all.
 */
class AnswerGate {
  private server?: net.Server;
  private holding = false;
  private held: Buffer[] = [];
  private toClient?: net.Socket;
  /** Queries (simple `Q` or extended ending in `S`ync) sent while answers were held. */
  sentWhileHeld = 0;
  port = 0;

  static async start(): Promise<AnswerGate> {
    const gate = new AnswerGate();
    gate.server = net.createServer((client) => {
      const upstream = net.connect(5432, '127.0.0.1');
      gate.toClient = client;
      let pending = Buffer.alloc(0);
      let started = false; // the startup message has no type byte
      client.on('data', (chunk: Buffer) => {
        upstream.write(chunk);
        pending = Buffer.concat([pending, chunk]);
        for (;;) {
          const offset = started ? 1 : 0;
          if (pending.length < offset + 4) break;
          const length = pending.readInt32BE(offset);
          if (pending.length < offset + length) break;
          const type = started ? String.fromCharCode(pending[0]!) : '';
          if (gate.holding && (type === 'Q' || type === 'S')) gate.sentWhileHeld += 1;
          pending = pending.subarray(offset + length);
          started = true;
        }
      });
      upstream.on('data', (chunk: Buffer) =>
        gate.holding ? gate.held.push(chunk) : client.write(chunk),
      );
      client.on('error', () => upstream.destroy()).on('close', () => upstream.destroy());
      upstream.on('error', () => client.destroy()).on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => gate.server!.listen(0, '127.0.0.1', resolve));
    gate.port = (gate.server.address() as net.AddressInfo).port;
    return gate;
  }

  hold(): void {
    this.holding = true;
    this.sentWhileHeld = 0;
  }

  release(): void {
    this.holding = false;
    for (const chunk of this.held.splice(0)) this.toClient?.write(chunk);
  }

  close(): Promise<void> {
    this.toClient?.destroy();
    return new Promise((resolve) => this.server!.close(() => resolve()));
  }
}

class CommitCounter implements EntitySubscriberInterface {
  commits = 0;
  afterTransactionCommit(_event: TransactionCommitEvent): void {
    this.commits += 1;
  }
}

describe('pipelined statements and transactions against PostgreSQL', () => {
  let database: TestDatabase;
  let gate: AnswerGate;
  let dataSource: DataSource;
  let waiting: DataSource;
  const counter = new CommitCounter();

  const open = async (url: string, pipeline: boolean) => {
    const options = dataSourceOptions(url, []);
    const source = new DataSource({
      ...options,
      extra: { ...(options.extra as Record<string, unknown>), max: 1, pipeline },
    });
    await source.initialize();
    source.subscribers.push(counter); // as the outbox registers its commit hook
    return source;
  };
  const values = async (source: DataSource) =>
    (await source.query<{ v: number }[]>('SELECT v FROM t ORDER BY v')).map((r) => r.v);

  beforeAll(async () => {
    database = await createTestDatabase('pipeline');
    gate = await AnswerGate.start();
    const url = new URL(database.url);
    url.port = String(gate.port);
    dataSource = await open(url.toString(), true);
    waiting = await open(database.url, false);
    await dataSource.query('CREATE TABLE t (v int PRIMARY KEY)');
  });

  afterAll(async () => {
    gate?.release();
    await dataSource?.destroy();
    await waiting?.destroy();
    await gate?.close();
    await database?.dispose();
  });

  beforeEach(async () => {
    gate.release(); // after a failed test
    await dataSource.query('TRUNCATE t');
  });

  it('sends BEGIN and the first statement without waiting for an answer, and commits', async () => {
    const commits = counter.commits;
    gate.hold();
    const done = transaction(dataSource, async (manager) => {
      await manager.query('INSERT INTO t VALUES ($1)', [1]);
      await manager.query('INSERT INTO t VALUES ($1)', [2]);
    });
    await waitFor('BEGIN and the first INSERT sent', () => gate.sentWhileHeld === 2);
    gate.release();
    await done;
    expect(await values(dataSource)).toEqual([1, 2]);
    expect(counter.commits).toBe(commits + 1); // commit subscribers (the outbox hook) still run
  });

  it('answers a pipelined batch on a connection lost mid-transaction as an outage, not a bug', async () => {
    // As the fault suite's pg_terminate_backend: TypeORM releases the runner of the failed
    // connection, and a batch issued after it must read as "database unavailable" (503).
    let failure: unknown;
    await transaction(waiting, async (manager) => {
      const [row] = await manager.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid');
      await dataSource.query('SELECT pg_terminate_backend($1)', [row!.pid]);
      await waitFor('TypeORM to release the runner', () => manager.queryRunner!.isReleased);
      failure = await pipelined(manager, [{ sql: 'INSERT INTO t VALUES ($1)', params: [9] }]).catch(
        (error: unknown) => error,
      );
    }).catch(() => undefined); // its COMMIT fails too, on the released runner
    expect(isDatabaseUnavailable(failure)).toBe(true);
    expect(await values(dataSource)).toEqual([]);
  });

  it('sends a batch of statements in one go, in order', async () => {
    gate.hold();
    const done = transaction(dataSource, (manager) =>
      pipelined<{ v: number }>(manager, [
        { sql: 'INSERT INTO t VALUES ($1)', params: [1] },
        { sql: 'INSERT INTO t VALUES ($1)', params: [2] },
        { sql: 'SELECT count(*)::int AS v FROM t' },
      ]),
    );
    await waitFor('BEGIN and three statements sent', () => gate.sentWhileHeld === 4);
    gate.release();
    const rows = await done;
    expect(rows[2]).toEqual([{ v: 2 }]);
    expect(await values(dataSource)).toEqual([1, 2]);
  });

  it('rolls back everything when a statement of a batch fails, and rejects with its error', async () => {
    await dataSource.query('INSERT INTO t VALUES (2)');
    await expect(
      transaction(dataSource, (manager) =>
        pipelined(manager, [
          { sql: 'INSERT INTO t VALUES ($1)', params: [1] },
          { sql: 'INSERT INTO t VALUES ($1)', params: [2] }, // duplicate key
          { sql: 'INSERT INTO t VALUES ($1)', params: [3] },
        ]),
      ),
    ).rejects.toThrow(/duplicate key/);
    expect(await values(dataSource)).toEqual([2]);
    // The connection is clean afterwards: the next transaction commits.
    await transaction(dataSource, (manager) => manager.query('INSERT INTO t VALUES (4)'));
    expect(await values(dataSource)).toEqual([2, 4]);
  });

  it('rolls back when the work throws, and nests with savepoints', async () => {
    await expect(
      transaction(dataSource, async (manager) => {
        await manager.query('INSERT INTO t VALUES (1)');
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    await transaction(dataSource, async (manager) => {
      await manager.query('INSERT INTO t VALUES (5)');
      await manager
        .transaction(async (inner) => {
          await inner.query('INSERT INTO t VALUES (6)');
          throw new Error('inner failed');
        })
        .catch(() => undefined);
      await manager.transaction((inner) => inner.query('INSERT INTO t VALUES (7)'));
    });
    expect(await values(dataSource)).toEqual([5, 7]);
  });

  it('works the same, one statement at a time, on a connection that does not pipeline', async () => {
    const commits = counter.commits;
    await transaction(waiting, (manager) =>
      pipelined(manager, [
        { sql: 'INSERT INTO t VALUES ($1)', params: [8] },
        { sql: 'INSERT INTO t VALUES ($1)', params: [9] },
      ]),
    );
    await expect(
      transaction(waiting, (manager) =>
        pipelined(manager, [
          { sql: 'INSERT INTO t VALUES ($1)', params: [10] },
          { sql: 'INSERT INTO t VALUES ($1)', params: [8] },
        ]),
      ),
    ).rejects.toThrow(/duplicate key/);
    expect(await values(waiting)).toEqual([8, 9]);
    expect(counter.commits).toBe(commits + 1);
  });
});
