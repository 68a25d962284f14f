import type { RedisClient } from '../stores/redis.js';
import { billingEventSchema, type BillingEvent } from './events.js';

export interface TailOptions {
  readonly group: string;
  readonly consumer: string;
  /** a new group starts at the beginning of the stream (else only events after its creation) */
  readonly fromStart: boolean;
  readonly blockMs: number;
  readonly count: number;
  /** return once nothing new arrives within blockMs (else run until the signal aborts) */
  readonly once: boolean;
}

export interface TailOutput {
  event(event: BillingEvent, streamId: string): void;
  invalid(streamId: string, problem: string): void;
}

type StreamReply = [key: string, entries: [id: string, fields: string[]][]][] | null;

/** XGROUP CREATE ... MKSTREAM; returns false when the group already exists. */
export async function ensureGroup(redis: RedisClient, stream: string, group: string, fromStart: boolean): Promise<boolean> {
  try {
    await redis.xgroup('CREATE', stream, group, fromStart ? '0' : '$', 'MKSTREAM');
    return true;
  } catch (err) {
    if (/BUSYGROUP/.test((err as Error).message)) return false;
    throw err;
  }
}

function field(fields: readonly string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

/**
 * Reads billing events as one consumer of a consumer group, over every shard of the stream (one
 * group of the same name per shard stream): first the entries delivered to this consumer earlier
 * but never acknowledged (a crash between read and XACK), then new ones. Each event is validated,
 * handed to `out`, then acknowledged, so an event is acknowledged only after it was handled
 * (at-least-once: dedupe on idempotency_key downstream). A call's events are all in one shard, in
 * order; across shards there is no order. One stream is read with a blocking XREADGROUP; several
 * are polled in turn (a blocking read names one stream: reads over several would cross slots on a
 * cluster), pausing up to 100 ms when none had anything. Returns the number of entries handled.
 */
export async function tailBilling(
  redis: RedisClient,
  streams: readonly string[],
  options: TailOptions,
  out: TailOutput,
  signal?: AbortSignal,
): Promise<number> {
  for (const stream of streams) await ensureGroup(redis, stream, options.group, options.fromStart);
  const cursors = streams.map(() => '0');
  const block = streams.length === 1 ? options.blockMs : null;
  let handled = 0;
  let idleSince = Date.now();
  while (!signal?.aborted) {
    let got = 0;
    let switched = false;
    for (let s = 0; s < streams.length && !signal?.aborted; s++) {
      const stream = streams[s]!;
      const args: (string | number)[] = ['GROUP', options.group, options.consumer, 'COUNT', options.count];
      if (block !== null && cursors[s] === '>') args.push('BLOCK', block);
      const reply = (await (redis.xreadgroup as (...a: (string | number)[]) => Promise<unknown>)(...args, 'STREAMS', stream, cursors[s]!)) as StreamReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) {
        if (cursors[s] === '0') {
          cursors[s] = '>'; // no pending entries left: read new ones
          switched = true;
        }
        continue;
      }
      got += entries.length;
      for (const [id, fields] of entries) {
        const parsed = billingEventSchema.safeParse(safeJson(field(fields, 'event')));
        if (parsed.success) out.event(parsed.data, id);
        else out.invalid(id, parsed.error.message);
        await redis.xack(stream, options.group, id);
        handled++;
      }
    }
    if (got > 0) {
      idleSince = Date.now();
      continue;
    }
    if (switched) continue;
    if (options.once && (block !== null || Date.now() - idleSince >= options.blockMs)) break;
    if (block === null) await new Promise((resolve) => setTimeout(resolve, Math.min(100, options.blockMs)));
  }
  return handled;
}

function safeJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
