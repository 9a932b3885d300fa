/**
 * bus: tt's message bus against raw Redis.
 *
 * Starts its own redis-server (unix socket + 127.0.0.1 TCP, persistence off) and, for each
 * transport, measures through the built store API (sendMessage / receiveMessages / ackMessages):
 *   - concurrent: S senders and R receivers (own connections each, a receiver has a command
 *     connection and a blocking one), a fixed message count, each sender awaiting each send;
 *     messages sent and received per second, send-to-receive latency p50/p99/max;
 *   - serial: 1 sender, 1 receiver, one message in flight (the next is sent once the previous
 *     was received), so every message goes through the receiver's blocking wake-up.
 * Beside it, on the same server in the same run, `redis-benchmark -t lpush,rpop` with 50 clients
 * and with 1 client. Figures are medians of the repetitions, after a warm-up round.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Endpoint } from '../source/config/endpoint.js';
import type { Agent } from '../source/model/agent.js';
import { connect } from '../source/redis/connect.js';
import { registerAgent } from '../source/store/agents.js';
import { makeDb, type Db } from '../source/store/db.js';
import { keysFor } from '../source/store/keys.js';
import { ackMessages, receiveMessages, sendMessage } from '../source/store/messages.js';
import { redisCpuSeconds, redisToolsMissing, type BenchRedis } from './lib/redis-server.js';
import { runRedisBenchmark, type Target } from './lib/redis-benchmark.js';
import { machineFacts } from './lib/machine.js';
import { withBenchSession } from './lib/session.js';
import { medianOf, ratio, round, roundAll, summarize, type Medianed, type Repeated } from './lib/stats.js';
import { fixed, int, table, times } from './lib/table.js';
import type { Benchmark, BenchOptions, BenchResult } from './lib/types.js';

interface Params {
  repetitions: number;
  warmup: boolean;
  senders: number;
  receivers: number;
  messages: number;
  /** receiveMessages' `max`: messages claimed per call. */
  claimMax: number;
  /** How long a receiver blocks on its wake list per call (ms). */
  blockMs: number;
  serialMessages: number;
  /** redis-benchmark -n for the 50-client and the 1-client runs. */
  rbRequests: number;
  rbSerialRequests: number;
  /** Hard bound on any one measured scenario (ms). */
  deadlineMs: number;
}

const FULL: Params = {
  repetitions: 3,
  warmup: true,
  senders: 8,
  receivers: 4,
  messages: 20_000,
  claimMax: 10,
  blockMs: 1000,
  serialMessages: 2_000,
  rbRequests: 100_000,
  rbSerialRequests: 5_000,
  deadlineMs: 30_000,
};
const QUICK: Params = {
  repetitions: 1,
  warmup: false,
  senders: 2,
  receivers: 2,
  messages: 400,
  claimMax: 10,
  blockMs: 1000,
  serialMessages: 100,
  rbRequests: 5_000,
  rbSerialRequests: 1_000,
  deadlineMs: 5_000,
};

interface Transport {
  name: 'unix' | 'tcp';
  label: string;
  endpoint: Endpoint;
  target: Target;
}

interface ConcurrentRun {
  sentPerSec: number;
  receivedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU used during the run, as % of one CPU over the wall time. */
  nodeCpuPct: number;
  redisCpuPct: number;
}

interface SerialRun {
  messagesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface RbRun {
  /** Mean of the LPUSH and RPOP rates. */
  opsPerSec: number;
  /** LPUSH+RPOP pairs per second (a bare list queue's message rate): 1 / (1/lpush + 1/rpop). */
  pairsPerSec: number;
  lpushPerSec: number;
  rpopPerSec: number;
  /** Mean of LPUSH and RPOP p50 / p99. */
  p50Ms: number;
  p99Ms: number;
}

const nowMs = () => performance.timeOrigin + performance.now();

/** Connections and agents for one measured scenario, on a flushed server. */
class Scene {
  private readonly conns: Redis[] = [];
  readonly town: string;
  constructor(
    private readonly redis: BenchRedis,
    private readonly transport: Transport,
  ) {
    this.town = `bench-${process.pid}-${randomUUID().slice(0, 8)}`;
  }

  async open(role: 'dispatcher' | 'blocking'): Promise<Redis> {
    const c = await connect(this.transport.endpoint, role);
    this.conns.push(c);
    return c;
  }

  db(conn: Redis): Db {
    return makeDb(conn, this.town, { now: () => Date.now() });
  }

  async register(db: Db, name: string): Promise<string> {
    const t = Date.now();
    const agent: Agent = {
      id: randomUUID(),
      name,
      nickname: name,
      cli: 'sim',
      state: 'idle',
      caps: [],
      createdAt: t,
      updatedAt: t,
      tasksCompleted: 0,
      roundsCompleted: 0,
    };
    const r = await registerAgent(db, agent);
    if (!r.ok) throw new Error(`could not register agent ${name}: taken by ${r.existingId}`);
    return agent.id;
  }

  /** Every receiver's inbox and held set must be empty once all messages were received and acked. */
  async assertDrained(ids: string[]): Promise<void> {
    const k = keysFor(this.town);
    for (const id of ids) {
      const [inbox, held] = await Promise.all([
        this.redis.admin.zcard(k.inbox(id)),
        this.redis.admin.hlen(k.held(id)),
      ]);
      if (inbox || held)
        throw new Error(`receiver ${id.slice(0, 8)} left ${inbox} queued and ${held} held messages`);
    }
  }

  close(): void {
    for (const c of this.conns) c.disconnect();
  }
}

interface ReceiverSpec {
  db: Db;
  blocking: Redis;
  id: string;
  expected: number;
}

/**
 * Runs receivers until each got its expected count (or the run is aborted). `onBatch` gets the
 * receipt time and the send timestamps of a batch; message ids are checked for duplicates.
 */
const runReceivers = (
  specs: ReceiverSpec[],
  p: Params,
  state: RunState,
  onBatch: (receivedAt: number, sentAt: number[]) => void,
): Promise<void[]> => {
  const seen = new Set<string>();
  return Promise.all(
    specs.map(async (r) => {
      let got = 0;
      while (got < r.expected && !state.aborted) {
        const batch = await receiveMessages(r.db, r.blocking, r.id, p.claimMax, p.blockMs);
        const receivedAt = nowMs();
        if (batch.malformed.length) throw new Error(`malformed inbox entry: ${batch.malformed[0]!.problem}`);
        if (!batch.items.length) continue;
        const sentAt: number[] = [];
        for (const { message } of batch.items) {
          if (seen.has(message.id)) throw new Error(`message ${message.id} received twice`);
          seen.add(message.id);
          if (message.type !== 'informational') throw new Error(`unexpected message type ${message.type}`);
          sentAt.push(Number(message.summary));
        }
        got += batch.items.length;
        onBatch(receivedAt, sentAt);
        await ackMessages(
          r.db,
          r.id,
          batch.items.map((e) => e.message.id),
        );
      }
    }),
  );
};

/**
 * Bounds a scenario to `ms`: on expiry it flags the run aborted and drops the blocking
 * connections so pending BLPOPs return. Any failure also flags it, so the other loops stop.
 */
interface RunState {
  aborted: boolean;
  /** Called once when the run is aborted, to release anything waiting on a receipt. */
  onAbort?: () => void;
}

const withDeadline = async <T>(
  ms: number,
  what: string,
  blocking: Redis[],
  state: RunState,
  body: () => Promise<T>,
  progress: () => string,
): Promise<T> => {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    state.aborted = true;
    state.onAbort?.();
    for (const b of blocking) b.disconnect();
  }, ms);
  let out: T;
  try {
    out = await body();
  } catch (e) {
    if (!state.aborted) {
      state.aborted = true;
      state.onAbort?.();
    }
    if (timedOut)
      throw new Error(
        `${what} did not finish within ${ms / 1000} s (${progress()}): ${(e as Error).message}`,
        { cause: e },
      );
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`${what} did not finish within ${ms / 1000} s (${progress()})`);
  return out;
};

const concurrentRun = async (
  redis: BenchRedis,
  t: Transport,
  p: Params,
  messages: number,
): Promise<ConcurrentRun> => {
  await redis.admin.flushall();
  const scene = new Scene(redis, t);
  try {
    const senders: { db: Db; id: string }[] = [];
    for (let i = 0; i < p.senders; i++) {
      const db = scene.db(await scene.open('dispatcher'));
      senders.push({ db, id: await scene.register(db, `sender-${i}`) });
    }
    const receivers: ReceiverSpec[] = [];
    for (let i = 0; i < p.receivers; i++) {
      const db = scene.db(await scene.open('dispatcher'));
      receivers.push({
        db,
        blocking: await scene.open('blocking'),
        id: await scene.register(db, `receiver-${i}`),
        expected: 0,
      });
    }
    // Sender i sends its j-th message to receiver (i + j) mod R: every sender reaches every receiver.
    const plans = senders.map((_, i) => {
      const count = Math.floor(messages / p.senders) + (i < messages % p.senders ? 1 : 0);
      return Array.from({ length: count }, (_, j) => {
        const target = (i + j) % p.receivers;
        receivers[target]!.expected++;
        return target;
      });
    });

    const latencies = new Float64Array(messages);
    let received = 0;
    let lastReceived = 0;
    let sent = 0;
    const state: RunState = { aborted: false };
    const cpu0 = process.cpuUsage();
    const redisCpu0 = await redisCpuSeconds(redis.admin);
    const t0 = performance.now();
    let sentDone = 0;
    await withDeadline(
      p.deadlineMs,
      `${t.name} concurrent run`,
      receivers.map((r) => r.blocking),
      state,
      () =>
        Promise.all([
          runReceivers(receivers, p, state, (at, sentAt) => {
            for (const s of sentAt) latencies[received++] = at - s;
            lastReceived = performance.now();
          }),
          Promise.all(
            senders.map(async (s, i) => {
              for (const target of plans[i]!) {
                if (state.aborted) return;
                await sendMessage(
                  s.db,
                  {
                    from: s.id,
                    to: receivers[target]!.id,
                    body: { type: 'informational', summary: String(nowMs()) },
                    priority: 'normal',
                  },
                  'bench',
                );
                sent++;
              }
            }),
          ).then(() => {
            sentDone = performance.now();
          }),
        ]),
      () => `sent ${sent}, received ${received} of ${messages}`,
    );
    const wallMs = lastReceived - t0;
    const cpu = process.cpuUsage(cpu0);
    const redisCpu = (await redisCpuSeconds(redis.admin)) - redisCpu0;
    if (received !== messages) throw new Error(`${t.name}: received ${received} of ${messages}`);
    await scene.assertDrained(receivers.map((r) => r.id));
    const lat = summarize(latencies);
    return {
      sentPerSec: messages / ((sentDone - t0) / 1000),
      receivedPerSec: messages / (wallMs / 1000),
      p50Ms: lat.p50,
      p99Ms: lat.p99,
      maxMs: lat.max,
      nodeCpuPct: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
      redisCpuPct: ((redisCpu * 1000) / wallMs) * 100,
    };
  } finally {
    scene.close();
  }
};

const serialRun = async (
  redis: BenchRedis,
  t: Transport,
  p: Params,
  messages: number,
): Promise<SerialRun> => {
  await redis.admin.flushall();
  const scene = new Scene(redis, t);
  try {
    const sdb = scene.db(await scene.open('dispatcher'));
    const senderId = await scene.register(sdb, 'sender');
    const rdb = scene.db(await scene.open('dispatcher'));
    const receiver: ReceiverSpec = {
      db: rdb,
      blocking: await scene.open('blocking'),
      id: await scene.register(rdb, 'receiver'),
      expected: messages,
    };
    const latencies = new Float64Array(messages);
    let received = 0;
    let wake: (() => void) | undefined;
    const state: RunState = { aborted: false, onAbort: () => wake?.() };
    const t0 = performance.now();
    let t1 = t0;
    await withDeadline(
      p.deadlineMs,
      `${t.name} serial run`,
      [receiver.blocking],
      state,
      () =>
        Promise.all([
          runReceivers([receiver], p, state, (at, sentAt) => {
            for (const s of sentAt) latencies[received++] = at - s;
            wake?.();
          }),
          (async () => {
            for (let k = 0; k < messages && !state.aborted; k++) {
              const got = new Promise<void>((r) => (wake = r));
              await sendMessage(
                sdb,
                {
                  from: senderId,
                  to: receiver.id,
                  body: { type: 'informational', summary: String(nowMs()) },
                  priority: 'normal',
                },
                'bench',
              );
              await got;
            }
            t1 = performance.now();
          })(),
        ]),
      () => `received ${received} of ${messages}`,
    );
    if (received !== messages) throw new Error(`${t.name}: received ${received} of ${messages}`);
    await scene.assertDrained([receiver.id]);
    const lat = summarize(latencies);
    return { messagesPerSec: messages / ((t1 - t0) / 1000), p50Ms: lat.p50, p99Ms: lat.p99, maxMs: lat.max };
  } finally {
    scene.close();
  }
};

const rbRun = async (
  t: Transport,
  clients: number,
  requests: number,
  timeoutMs: number,
): Promise<{ argv: string[]; run: RbRun }> => {
  const { argv, rows } = await runRedisBenchmark(
    t.target,
    ['-t', 'lpush,rpop', '-n', String(requests), '-c', String(clients), '-q'],
    timeoutMs,
  );
  const lpush = rows.get('lpush');
  const rpop = rows.get('rpop');
  if (!lpush || !rpop)
    throw new Error(`redis-benchmark did not report LPUSH and RPOP (got ${[...rows.keys()].join(', ')})`);
  return {
    argv,
    run: {
      opsPerSec: (lpush.rps + rpop.rps) / 2,
      pairsPerSec: 1 / (1 / lpush.rps + 1 / rpop.rps),
      lpushPerSec: lpush.rps,
      rpopPerSec: rpop.rps,
      p50Ms: (lpush.p50Ms + rpop.p50Ms) / 2,
      p99Ms: (lpush.p99Ms + rpop.p99Ms) / 2,
    },
  };
};

export const bus: Benchmark = {
  name: 'bus',
  summary:
    "tt's message bus (send, blocking receive, ack), unix socket and TCP, against redis-benchmark LPUSH/RPOP",
  async run(opts: BenchOptions): Promise<BenchResult> {
    const p = opts.quick ? QUICK : FULL;
    const missing = redisToolsMissing();
    if (missing) throw new Error(missing);
    return withBenchSession('bus', opts, async (s) => {
      const { redis } = s;
      const transports: Transport[] = [
        {
          name: 'unix',
          label: 'unix socket',
          endpoint: {
            kind: 'managed',
            socket: redis.socket,
            dir: redis.dir,
            display: `unix:${redis.socket}`,
          },
          target: { socket: redis.socket },
        },
        {
          name: 'tcp',
          label: 'tcp 127.0.0.1',
          endpoint: {
            kind: 'external',
            url: `redis://127.0.0.1:${redis.port}`,
            display: `redis://127.0.0.1:${redis.port}`,
          },
          target: { host: '127.0.0.1', port: redis.port },
        },
      ];
      opts.progress(
        `bus: redis-server ${redis.version} pid ${redis.pid} on ${redis.socket} and 127.0.0.1:${redis.port}`,
      );
      const rbTimeout = p.deadlineMs;

      if (p.warmup) {
        opts.progress('bus: warm-up (discarded)');
        for (const t of transports) {
          await concurrentRun(redis, t, p, Math.floor(p.messages / 4));
          await serialRun(redis, t, p, Math.floor(p.serialMessages / 4));
          await rbRun(t, 50, Math.floor(p.rbRequests / 4), rbTimeout);
        }
      }

      const runs = new Map(
        transports.map((t) => [
          t.name,
          {
            concurrent: [] as ConcurrentRun[],
            serial: [] as SerialRun[],
            rb50: [] as RbRun[],
            rb1: [] as RbRun[],
          },
        ]),
      );
      const argv: Record<string, string[]> = {};
      for (let rep = 1; rep <= p.repetitions; rep++) {
        for (const t of transports) {
          const r = runs.get(t.name)!;
          opts.progress(`bus: repetition ${rep}/${p.repetitions}, ${t.label}`);
          r.concurrent.push(await concurrentRun(redis, t, p, p.messages));
          r.serial.push(await serialRun(redis, t, p, p.serialMessages));
          const rb50 = await rbRun(t, 50, p.rbRequests, rbTimeout);
          r.rb50.push(rb50.run);
          argv[`${t.name}_c50`] = rb50.argv;
          const rb1 = await rbRun(t, 1, p.rbSerialRequests, rbTimeout);
          r.rb1.push(rb1.run);
          argv[`${t.name}_c1`] = rb1.argv;
          opts.progress(
            `  tt ${int(r.concurrent.at(-1)!.receivedPerSec)} msg/s, serial p50 ${fixed(r.serial.at(-1)!.p50Ms)} ms; redis-benchmark ${int(rb50.run.opsPerSec)} ops/s, 1-client p50 ${fixed(rb1.run.p50Ms)} ms`,
          );
        }
      }

      type Medians = {
        concurrent: Medianed<ConcurrentRun>;
        serial: Medianed<SerialRun>;
        rb50: Medianed<RbRun>;
        rb1: Medianed<RbRun>;
      };
      const medianFor = (name: Transport['name']): Medians => {
        const r = runs.get(name)!;
        return {
          concurrent: medianOf(r.concurrent),
          serial: medianOf(r.serial),
          rb50: medianOf(r.rb50),
          rb1: medianOf(r.rb1),
        };
      };
      const medians: Record<Transport['name'], Medians> = { unix: medianFor('unix'), tcp: medianFor('tcp') };
      const ratios = Object.fromEntries(
        transports.map((t) => {
          const m = medians[t.name];
          return [
            t.name,
            {
              /** Headline: our messages received per second over redis-benchmark's ops/s (50 clients, mean of LPUSH and RPOP). */
              throughput: round(ratio(m.concurrent.receivedPerSec.median, m.rb50.opsPerSec.median)),
              /** The same ratio within each repetition (both sides measured back to back): shows the noise. */
              throughputPerRun: m.concurrent.receivedPerSec.runs.map((x, i) =>
                round(ratio(x, m.rb50.opsPerSec.runs[i]!)),
              ),
              /** Our messages/s over bare LPUSH+RPOP pairs/s (a message needs at least one push and one pop). */
              throughputVsPairs: round(ratio(m.concurrent.receivedPerSec.median, m.rb50.pairsPerSec.median)),
              /** Serial message latency p50 over redis-benchmark's 1-client p50 (one command round trip): RTTs per message. */
              serialP50VsRoundTrip: round(ratio(m.serial.p50Ms.median, m.rb1.p50Ms.median)),
            },
          ];
        }),
      ) as Record<
        Transport['name'],
        {
          throughput: number;
          throughputPerRun: number[];
          throughputVsPairs: number;
          serialP50VsRoundTrip: number;
        }
      >;

      const setup = {
        ...machineFacts(redis.version),
        ...s.conditions(),
        processes:
          'one Node process hosts every sender and receiver; redis-server and redis-benchmark are separate processes',
        persistence: 'off (--save "" --appendonly no)',
        repetitions: p.repetitions,
        warmup: p.warmup,
        statistic: 'median of repetitions; latency percentiles are nearest-rank within a run',
        concurrent: {
          senders: p.senders,
          receivers: p.receivers,
          messages: p.messages,
          claimMax: p.claimMax,
          inFlightPerSender: 1,
        },
        serial: { messages: p.serialMessages, inFlight: 1 },
        latencyClock:
          'performance.timeOrigin + performance.now(), taken before send, read when receiveMessages returns',
      };
      const json = {
        ...s.header(),
        setup,
        ours: Object.fromEntries(
          transports.map((t) => [
            t.name,
            { concurrent: roundAll(medians[t.name].concurrent), serial: roundAll(medians[t.name].serial) },
          ]),
        ),
        peer: {
          name: 'redis-benchmark',
          commands: argv,
          ...Object.fromEntries(
            transports.map((t) => [
              t.name,
              { c50: roundAll(medians[t.name].rb50), c1: roundAll(medians[t.name].rb1) },
            ]),
          ),
        },
        ratios,
        headline: Object.fromEntries(transports.map((t) => [t.name, ratios[t.name].throughput])),
      };

      const col = (f: (m: (typeof medians)['unix'], r: (typeof ratios)['unix']) => string) =>
        transports.map((t) => f(medians[t.name], ratios[t.name]));
      const lat = (x: Record<'p50Ms' | 'p99Ms' | 'maxMs', Repeated>) =>
        `${fixed(x.p50Ms.median)} / ${fixed(x.p99Ms.median)} / ${fixed(x.maxMs.median, 1)}`;
      const lines = [
        `bus: tt message bus vs redis-benchmark, redis ${setup.redis}, node ${setup.node}, ${setup.cpus} x ${setup.cpuModel}`,
        s.placementLine(
          p.warmup ? `median of ${p.repetitions} runs after a warm-up` : `${p.repetitions} run, no warm-up`,
        ),
        ...s.busyWarning('low'),
        '',
        ...table(
          ['', ...transports.map((t) => t.label)],
          [
            `tt bus, ${p.senders} senders x ${p.receivers} receivers, ${p.messages} messages, claim <= ${p.claimMax}`,
            ['  sent / s', ...col((m) => int(m.concurrent.sentPerSec.median))],
            ['  received / s', ...col((m) => int(m.concurrent.receivedPerSec.median))],
            ['  latency p50 / p99 / max (ms)', ...col((m) => lat(m.concurrent))],
            [
              '  cpu: node / redis (% of one cpu)',
              ...col(
                (m) => `${int(m.concurrent.nodeCpuPct.median)} / ${int(m.concurrent.redisCpuPct.median)}`,
              ),
            ],
            `tt bus, 1 sender x 1 receiver, serial (one in flight), ${p.serialMessages} messages`,
            ['  messages / s', ...col((m) => int(m.serial.messagesPerSec.median))],
            ['  latency p50 / p99 / max (ms)', ...col((m) => lat(m.serial))],
            `redis-benchmark -t lpush,rpop -c 50 -n ${p.rbRequests}`,
            [
              '  LPUSH / RPOP ops/s',
              ...col((m) => `${int(m.rb50.lpushPerSec.median)} / ${int(m.rb50.rpopPerSec.median)}`),
            ],
            ['  mean ops/s (peer figure)', ...col((m) => int(m.rb50.opsPerSec.median))],
            ['  LPUSH+RPOP pairs/s', ...col((m) => int(m.rb50.pairsPerSec.median))],
            `redis-benchmark -t lpush,rpop -c 1 -n ${p.rbSerialRequests}`,
            ['  mean ops/s', ...col((m) => int(m.rb1.opsPerSec.median))],
            [
              '  p50 / p99 (ms)',
              ...col((m) => `${fixed(m.rb1.p50Ms.median)} / ${fixed(m.rb1.p99Ms.median)}`),
            ],
            'ratios',
            ['  received/s / redis-benchmark ops/s (headline)', ...col((_, r) => times(r.throughput))],
            [
              '    same ratio in each repetition',
              ...col((_, r) => r.throughputPerRun.map((x) => x.toFixed(3)).join(' ')),
            ],
            ['  received/s / LPUSH+RPOP pairs/s', ...col((_, r) => times(r.throughputVsPairs))],
            [
              '  serial p50 / 1-client p50 (round trips per message)',
              ...col((_, r) => fixed(r.serialP50VsRoundTrip, 1)),
            ],
          ],
        ),
        '',
        `ran ${s.elapsedSec()} s; one Node process hosts all senders and receivers (own connections each); messages/s count a message once it was received.`,
      ];
      return { json, lines };
    });
  },
};
