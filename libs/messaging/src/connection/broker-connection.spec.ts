import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { type Channel } from 'amqplib';
import { FakeBroker, type FakeChannel } from '../../test/fake-amqp.js';
import { BrokerConnection, splitAmqpUrls } from './broker-connection.js';

const A = 'amqp://guest:guest@node-a:5672/v';
const B = 'amqp://guest:guest@node-b:5672/v';

/** Lets the fake's promise chains settle, advancing the fake clock by `ms`. */
const advance = async (ms: number) => {
  await jest.advanceTimersByTimeAsync(ms);
};

describe('BrokerConnection and its supervised channels (with a fake broker)', () => {
  let broker: FakeBroker;
  let connection: BrokerConnection;

  beforeEach(() => {
    jest.useFakeTimers();
    broker = new FakeBroker();
  });

  afterEach(async () => {
    await connection?.close();
    jest.useRealTimers();
  });

  it('takes AMQP_URL as a comma-separated list of nodes', () => {
    expect(splitAmqpUrls(` ${A} , ${B} `)).toEqual([A, B]);
    expect(() => splitAmqpUrls(' , ')).toThrow('AMQP_URL names no broker');
  });

  it('fails over to the next node when one refuses, and back when it returns', async () => {
    broker.down.add(A);
    connection = new BrokerConnection(`${A},${B}`, 'test', broker.connect);
    connection.start();
    await advance(1_000);
    expect(connection.isConnected()).toBe(true);
    expect(broker.current?.url).toBe(B);
    expect(broker.attempts.slice(0, 2)).toEqual([A, B]);
    broker.down.delete(A);
    broker.down.add(B);
    broker.current!.drop();
    expect(connection.isConnected()).toBe(false);
    await advance(1_000);
    expect(broker.current?.url).toBe(A);
  });

  it('re-opens a channel whose setup fails with a growing back-off, leaving the connection and the other channels alone', async () => {
    connection = new BrokerConnection(A, 'test', broker.connect);
    connection.start();
    await advance(0);
    let refuse = true;
    const setups: number[] = [];
    const failing = connection.channel<Channel>({
      name: 'consumer of refused.queue',
      confirm: false,
      setup: async (channel) => {
        setups.push(Date.now());
        if (refuse) {
          (channel as unknown as FakeChannel).failWith(
            'Operation failed: QueueDeclare; 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - access to queue \'refused.queue\' refused"',
          );
          throw new Error('ACCESS_REFUSED - access to queue refused.queue');
        }
      },
    });
    const healthy = connection.channel<Channel>({
      name: 'consumer of fine.queue',
      confirm: false,
      setup: () => Promise.resolve(),
    });
    await advance(0);
    expect(healthy.current()).toBeDefined();
    await advance(20_000);
    // 1 s, 2 s, 4 s, 8 s (±20%): five attempts in 20 s, not one every few milliseconds.
    expect(setups.length).toBeGreaterThanOrEqual(4);
    expect(setups.length).toBeLessThanOrEqual(6);
    const gaps = setups.slice(1).map((at, i) => at - setups[i]!);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]!);
    expect(broker.connections).toHaveLength(1);
    expect(healthy.current()).toBeDefined();
    expect(failing.current()).toBeUndefined();
    refuse = false;
    await advance(40_000);
    expect(failing.current()).toBeDefined();
    expect(failing.failures).toBe(0);
  });

  it('re-opens and sets up every channel after a reconnect', async () => {
    connection = new BrokerConnection(A, 'test', broker.connect);
    connection.start();
    await advance(0);
    let setups = 0;
    const channel = connection.channel<Channel>({
      name: 'publisher',
      confirm: false,
      setup: () => {
        setups += 1;
        return Promise.resolve();
      },
    });
    await advance(0);
    broker.current!.drop();
    expect(channel.current()).toBeUndefined();
    await advance(1_000);
    expect(channel.current()).toBeDefined();
    expect(setups).toBe(2);
  });

  it('tracks a blocked connection, and lets publishers wait until it is unblocked', async () => {
    connection = new BrokerConnection(A, 'test', broker.connect);
    connection.start();
    await advance(0);
    expect(connection.isWritable()).toBe(true);
    broker.current!.emit('blocked', 'low on disk');
    expect(connection.blockedReason()).toBe('low on disk');
    expect(connection.isWritable()).toBe(false);
    let writable = false;
    void connection.whenWritable().then(() => (writable = true));
    await advance(5_000);
    expect(writable).toBe(false);
    broker.current!.emit('unblocked');
    await advance(0);
    expect(writable).toBe(true);
  });
});
