import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CallbackDispatcher, isRetryable, retryDelayMs, type CallbackSettings, type Deliver } from '../../../src/callbacks/dispatcher.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verify } from '../../../src/callbacks/signing.js';
import { createLogger } from '../../../src/observability/logger.js';

const SECRET = 's'.repeat(32);
const settings = (o: Partial<CallbackSettings> = {}): CallbackSettings => ({
  secret: SECRET,
  timeoutMs: 1000,
  maxAttempts: 3,
  retryMinMs: 100,
  retryMaxMs: 1000,
  queueMax: 100,
  concurrency: 4,
  ...o,
});

interface Sent {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** A receiver answering from a script of statuses (or 'throw' for a network error) per URL. */
function receiver(script: Record<string, (number | 'throw' | 'hang')[]> = {}) {
  const sent: Sent[] = [];
  const hanging: (() => void)[] = [];
  const deliver: Deliver = async (url, body, headers) => {
    sent.push({ url, body, headers });
    const next = script[url]?.shift() ?? 200;
    if (next === 'throw') throw new Error('ECONNREFUSED');
    if (next === 'hang') await new Promise<void>((resolve) => hanging.push(resolve));
    return next === 'hang' ? 200 : next;
  };
  return { sent, deliver, release: () => hanging.splice(0).forEach((r) => r()) };
}

const metric = async (registry: Registry, result: string): Promise<number> =>
  (await registry.getSingleMetric('sip_edge_status_callbacks_total')!.get()).values.find((v) => v.labels.result === result)?.value ?? 0;

afterEach(() => {
  vi.useRealTimers();
});

describe('CallbackDispatcher', () => {
  it('delivers each event signed, with its event id', async () => {
    const r = receiver();
    const d = new CallbackDispatcher(settings(), new Registry(), createLogger('silent'), r.deliver);
    d.enqueue('call_1', 'http://rx/a', '{"n":1}', 'call_1:1');
    await vi.waitFor(() => expect(r.sent).toHaveLength(1));
    const [s] = r.sent;
    expect(s!.headers['X-Sip-Edge-Event-Id']).toBe('call_1:1');
    expect(verify(SECRET, { timestamp: s!.headers[TIMESTAMP_HEADER], signature: s!.headers[SIGNATURE_HEADER] }, s!.body, Date.now())).toBe('ok');
  });

  it("keeps one call's events in order across retries, and does not hold other calls back", async () => {
    vi.useFakeTimers();
    const r = receiver({ 'http://rx/slow': [503, 'throw', 200] });
    const registry = new Registry();
    const d = new CallbackDispatcher(settings(), registry, createLogger('silent'), r.deliver);
    d.enqueue('call_1', 'http://rx/slow', 'one', 'call_1:1');
    d.enqueue('call_1', 'http://rx/slow', 'two', 'call_1:2');
    d.enqueue('call_2', 'http://rx/fast', 'other', 'call_2:1');
    await vi.advanceTimersByTimeAsync(0);
    // call_2 went out while call_1's first event waits for its retry; call_1's second waits behind it
    expect(r.sent.map((s) => s.body)).toEqual(['one', 'other']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(r.sent.map((s) => s.body)).toEqual(['one', 'other', 'one', 'one', 'two']);
    expect(await metric(registry, 'retried')).toBe(2);
    expect(await metric(registry, 'delivered')).toBe(3);
    expect(d.size).toBe(0);
  });

  it('gives an event up after max attempts and goes on with the next one of the call', async () => {
    vi.useFakeTimers();
    const r = receiver({ 'http://rx/down': [500, 500, 500, 200] });
    const registry = new Registry();
    const d = new CallbackDispatcher(settings({ maxAttempts: 3 }), registry, createLogger('silent'), r.deliver);
    d.enqueue('call_1', 'http://rx/down', 'one', 'call_1:1');
    d.enqueue('call_1', 'http://rx/down', 'two', 'call_1:2');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.sent.map((s) => s.body)).toEqual(['one', 'one', 'one', 'two']);
    expect(await metric(registry, 'failed')).toBe(1);
    expect(await metric(registry, 'delivered')).toBe(1);
  });

  it('does not retry a 4xx refusal (but does retry 408 and 429)', async () => {
    vi.useFakeTimers();
    const r = receiver({ 'http://rx/a': [401], 'http://rx/b': [429, 408, 200] });
    const registry = new Registry();
    const d = new CallbackDispatcher(settings(), registry, createLogger('silent'), r.deliver);
    d.enqueue('call_1', 'http://rx/a', 'x', 'call_1:1');
    d.enqueue('call_2', 'http://rx/b', 'y', 'call_2:1');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(r.sent.filter((s) => s.url === 'http://rx/a')).toHaveLength(1);
    expect(r.sent.filter((s) => s.url === 'http://rx/b')).toHaveLength(3);
    expect(await metric(registry, 'rejected')).toBe(1);
  });

  it('drops new events past queue_max and counts them; never more in flight than the concurrency', async () => {
    const r = receiver({ 'http://rx/h': ['hang', 'hang', 'hang'] });
    const registry = new Registry();
    const d = new CallbackDispatcher(settings({ queueMax: 3, concurrency: 2 }), registry, createLogger('silent'), r.deliver);
    expect(d.enqueue('c1', 'http://rx/h', '1', 'c1:1')).toBe(true);
    expect(d.enqueue('c2', 'http://rx/h', '2', 'c2:1')).toBe(true);
    expect(d.enqueue('c3', 'http://rx/h', '3', 'c3:1')).toBe(true);
    expect(d.enqueue('c4', 'http://rx/h', '4', 'c4:1')).toBe(false);
    await vi.waitFor(() => expect(r.sent).toHaveLength(2));
    expect(await metric(registry, 'dropped')).toBe(1);
    expect((await registry.getSingleMetric('sip_edge_status_callback_queue')!.get()).values[0]?.value).toBe(3);
    r.release();
    await vi.waitFor(() => expect(r.sent).toHaveLength(3));
    r.release();
    await d.stop(1000);
    expect(d.size).toBe(0);
  });
});

describe('retry policy', () => {
  it.each([
    [null, true],
    [500, true],
    [503, true],
    [408, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
    [410, false],
    [302, false],
  ])('status %s retried: %s', (status, expected) => {
    expect(isRetryable(status)).toBe(expected);
  });

  it('doubles from min to max, the upper half random', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(3, 1000, 60_000, () => 1)).toBe(4000);
    expect(retryDelayMs(10, 1000, 60_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(200, 1000, 60_000, () => 0)).toBe(30_000);
  });
});
