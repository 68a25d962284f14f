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
 * Reads billing events as one consumer of a consumer group: first the entries delivered to this
 * consumer earlier but never acknowledged (a crash between read and XACK), then new ones. Each
 * event is validated, handed to `out`, then acknowledged, so an event is acknowledged only after
 * it was handled (at-least-once: dedupe on idempotency_key downstream). Returns the number of
 * entries handled.
 */
export async function tailBilling(
  redis: RedisClient,
  stream: string,
  options: TailOptions,
  out: TailOutput,
  signal?: AbortSignal,
): Promise<number> {
  await ensureGroup(redis, stream, options.group, options.fromStart);
  let cursor = '0';
  let handled = 0;
  while (!signal?.aborted) {
    const reply = (await redis.xreadgroup(
      'GROUP',
      options.group,
      options.consumer,
      'COUNT',
      options.count,
      'BLOCK',
      options.blockMs,
      'STREAMS',
      stream,
      cursor,
    )) as StreamReply;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) {
      if (cursor === '0') {
        cursor = '>'; // no pending entries left: read new ones
        continue;
      }
      if (options.once) break;
      continue;
    }
    for (const [id, fields] of entries) {
      const parsed = billingEventSchema.safeParse(safeJson(field(fields, 'event')));
      if (parsed.success) out.event(parsed.data, id);
      else out.invalid(id, parsed.error.message);
      await redis.xack(stream, options.group, id);
      handled++;
    }
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
