import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';
import { signedHeaders } from './signing.js';

export interface CallbackSettings {
  /** HMAC key; the dispatcher is built only when one is configured */
  readonly secret: string;
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** events waiting (all calls together) before new ones are dropped */
  readonly queueMax: number;
  /** deliveries in flight at once */
  readonly concurrency: number;
}

/** One HTTP POST: resolves with the receiver's status, rejects on network errors and timeouts. */
export type Deliver = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<number>;

export type DeliveryResult = 'delivered' | 'retried' | 'failed' | 'rejected' | 'dropped';

interface Job {
  readonly url: string;
  readonly body: string;
  readonly eventId: string;
  attempts: number;
}

/** POST with fetch; redirects are not followed (a 3xx is the receiver's answer, not a new target). */
export const fetchDeliver: Deliver = async (url, body, headers, timeoutMs) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'sip-edge-callbacks/1', ...headers },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  // the body is not needed; reading it frees the connection for reuse
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
};

/** Whether a delivery that got this answer (null: no answer: network error, timeout) is tried again. */
export function isRetryable(status: number | null): boolean {
  if (status === null) return true;
  // 408 and 429 say "later"; any other 4xx (or 3xx) is the receiver's considered refusal
  return status >= 500 || status === 408 || status === 429;
}

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): doubling from min to max, the
 * upper half of it random so that receivers coming back are not hit by every edge at once.
 */
export function retryDelayMs(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Status callbacks, delivered off the call path: `enqueue` never waits. Events of one call go out
 * in the order they were enqueued, each after the previous one was delivered or given up (a
 * receiver sees states in order); calls are independent of each other. A failed delivery is tried
 * again with backoff, up to maxAttempts, without holding a delivery slot while it waits. The queue
 * is bounded (queueMax events): past it, new events are dropped and counted, never buffered without
 * limit. Every delivery is signed afresh (signing.ts), so a retry carries a current timestamp.
 */
export class CallbackDispatcher {
  private readonly chains = new Map<string, Job[]>();
  private readonly ready: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters = new Set<() => void>();
  private pending = 0;
  private active = 0;
  private stopped = false;
  private readonly results: Counter<'result'>;
  private readonly queued: Gauge;

  constructor(
    private readonly settings: CallbackSettings,
    registry: Registry,
    private readonly logger: Logger,
    private readonly deliver: Deliver = fetchDeliver,
    private readonly now: () => number = Date.now,
  ) {
    this.results = new Counter({
      name: 'sip_edge_status_callbacks_total',
      help: 'Status callback deliveries: delivered, retried (failed, tried again later), failed (given up after max attempts), rejected (a 3xx/4xx answer), dropped (queue full)',
      labelNames: ['result'] as const,
      registers: [registry],
    });
    this.queued = new Gauge({ name: 'sip_edge_status_callback_queue', help: 'Status callback events waiting for delivery', registers: [registry] });
  }

  get size(): number {
    return this.pending;
  }

  /** Queues one event for `key` (a call id); false when the queue is full or the dispatcher stopped. */
  enqueue(key: string, url: string, body: string, eventId: string): boolean {
    if (this.stopped || this.pending >= this.settings.queueMax) {
      this.count('dropped');
      this.logger.warn({ eventId, pending: this.pending, receiver: origin(url) }, 'status callback dropped: queue full');
      return false;
    }
    const chain = this.chains.get(key);
    const job: Job = { url, body, eventId, attempts: 0 };
    this.pending++;
    this.queued.set(this.pending);
    if (chain) {
      chain.push(job);
      return true;
    }
    this.chains.set(key, [job]);
    this.ready.push(key);
    this.pump();
    return true;
  }

  /** Resolves when nothing is waiting, or after timeoutMs; then stops (later events are dropped). */
  async stop(timeoutMs: number): Promise<void> {
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.idleWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.idleWaiters.add(done);
      });
    }
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (this.pending > 0) this.logger.warn({ pending: this.pending }, 'status callbacks left undelivered at shutdown');
  }

  private pump(): void {
    while (!this.stopped && this.active < this.settings.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      this.active++;
      void this.attempt(key).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async attempt(key: string): Promise<void> {
    const job = this.chains.get(key)?.[0];
    if (!job) return;
    job.attempts++;
    let status: number | null = null;
    let error: string | undefined;
    try {
      status = await this.deliver(job.url, job.body, { ...signedHeaders(this.settings.secret, job.body, this.now()), 'X-Sip-Edge-Event-Id': job.eventId }, this.settings.timeoutMs);
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
    }
    if (status !== null && status >= 200 && status < 300) {
      this.count('delivered');
      return this.next(key);
    }
    const fields = { eventId: job.eventId, attempt: job.attempts, status, error, receiver: origin(job.url) };
    if (!isRetryable(status)) {
      this.count('rejected');
      this.logger.warn(fields, 'status callback refused by the receiver; not retried');
      return this.next(key);
    }
    if (job.attempts >= this.settings.maxAttempts) {
      this.count('failed');
      this.logger.warn(fields, 'status callback given up after the last attempt');
      return this.next(key);
    }
    this.count('retried');
    this.logger.info(fields, 'status callback failed; will retry');
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(key);
      this.pump();
    }, retryDelayMs(job.attempts, this.settings.retryMinMs, this.settings.retryMaxMs));
    timer.unref();
    this.timers.add(timer);
  }

  /** The head job of `key` is done (delivered or given up): the next one of the same call may go. */
  private next(key: string): void {
    const chain = this.chains.get(key);
    chain?.shift();
    this.pending--;
    this.queued.set(this.pending);
    if (chain && chain.length > 0) this.ready.push(key);
    else this.chains.delete(key);
    if (this.pending === 0) for (const wake of [...this.idleWaiters]) wake();
  }

  private count(result: DeliveryResult): void {
    this.results.inc({ result });
  }
}

/** The receiver as logged: scheme, host and port only (a path or query may carry a token). */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
