import { Client, type NgDestination, type NgReply } from 'rtpengine-client';
import type { Logger } from '../observability/logger.js';
import { MediaUnavailableError, type AnchorCall, type AnswerRequest, type MediaAnchor, type MediaReport, type OfferRequest } from './anchor.js';
import { TOPOLOGY_HIDING } from './policy.js';
import { reportOf } from './report.js';

export interface RtpEngineOptions {
  /** ng control addresses, host:port */
  readonly instances: readonly string[];
  readonly commandTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly logger: Logger;
  /** told whenever the number of healthy instances changes */
  readonly onHealth?: (healthy: number, total: number) => void;
  /** told the round trip of every call-path command */
  readonly observe?: (command: string, result: 'ok' | 'error', seconds: number) => void;
}

interface Instance {
  readonly id: string;
  readonly dest: NgDestination;
  healthy: boolean;
  calls: number;
  /** a ping is in flight: the next round skips the instance (an old answer never overrides a newer one) */
  pinging: boolean;
  /** call-path commands that failed in a row (any answer resets it) */
  failures: number;
}

/**
 * Call-path commands that must fail in a row before an instance leaves rotation: one slow reply
 * under load must not refuse every new call until the next ping (a failed ping still takes it out).
 */
const FAILURES_BEFORE_DOWN = 3;

type Verb = 'offer' | 'answer' | 'delete' | 'query' | 'ping';

function destination(hostPort: string): NgDestination {
  const i = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, i), port: Number(hostPort.slice(i + 1)) };
}

/**
 * The media anchor on rtpengine over its ng control protocol (rtpengine-client, UDP). Each
 * instance is pinged every pingIntervalMs; a failed ping, or FAILURES_BEFORE_DOWN commands in a
 * row past commandTimeoutMs, take it out of rotation until a ping succeeds again. New calls go to
 * the healthy instance with the fewest calls of this edge; a call stays on its instance, and its
 * commands (delete above all) are still sent while the instance is out of rotation: a call's media
 * is never left behind in rtpengine because of one slow reply.
 */
export class RtpEngineAnchor implements MediaAnchor {
  private readonly instances: Instance[];
  private client: Client | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private next = 0;

  constructor(private readonly options: RtpEngineOptions) {
    this.instances = options.instances.map((id) => ({ id, dest: destination(id), healthy: true, calls: 0, pinging: false, failures: 0 }));
  }

  start(): void {
    if (this.client) return;
    const client = new Client({ timeout: this.options.commandTimeoutMs });
    // late replies (after a timeout) and socket errors come as events; none may crash the edge
    client.on('error', (err: unknown) => this.options.logger.debug({ err: { message: String((err as Error)?.message ?? err) } }, 'rtpengine client error'));
    this.client = client;
    void this.pingAll();
    this.pinger = setInterval(() => void this.pingAll(), this.options.pingIntervalMs);
    this.pinger.unref();
  }

  stop(): void {
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.client?.close();
    this.client = null;
  }

  health(): { healthy: number; total: number } {
    return { healthy: this.instances.filter((i) => i.healthy).length, total: this.instances.length };
  }

  place(callId: string): AnchorCall | null {
    const healthy = this.instances.filter((i) => i.healthy);
    if (healthy.length === 0) return null;
    const fewest = Math.min(...healthy.map((i) => i.calls));
    const candidates = healthy.filter((i) => i.calls === fewest);
    const chosen = candidates[this.next++ % candidates.length]!;
    chosen.calls++;
    return { callId, instance: chosen.id };
  }

  async offer(call: AnchorCall, request: OfferRequest): Promise<string> {
    const reply = await this.command(call.instance, 'offer', {
      ...TOPOLOGY_HIDING,
      ...request.params,
      'call-id': call.callId,
      'from-tag': request.fromTag,
      sdp: request.sdp,
    });
    return sdpOf(reply, 'offer', call.instance);
  }

  async answer(call: AnchorCall, request: AnswerRequest): Promise<string> {
    const reply = await this.command(call.instance, 'answer', {
      ...TOPOLOGY_HIDING,
      ...request.params,
      'call-id': call.callId,
      'from-tag': request.fromTag,
      'to-tag': request.toTag,
      sdp: request.sdp,
    });
    return sdpOf(reply, 'answer', call.instance);
  }

  async delete(call: AnchorCall, branch?: { fromTag: string; toTag: string }): Promise<void> {
    const instance = this.byId(call.instance);
    if (!branch) instance.calls = Math.max(0, instance.calls - 1);
    await this.command(call.instance, 'delete', {
      'call-id': call.callId,
      ...(branch ? { 'from-tag': branch.fromTag, 'to-tag': branch.toTag } : {}),
    });
  }

  async query(call: AnchorCall): Promise<MediaReport> {
    const reply = await this.command(call.instance, 'query', { 'call-id': call.callId });
    if (reply.result !== 'ok') throw new MediaUnavailableError(`rtpengine query failed: ${reply['error-reason'] ?? reply.result}`, call.instance);
    return reportOf(reply);
  }

  private byId(id: string): Instance {
    const instance = this.instances.find((i) => i.id === id);
    if (!instance) throw new MediaUnavailableError(`unknown rtpengine instance ${id}`, id);
    return instance;
  }

  private async command(id: string, verb: Verb, params: Record<string, unknown>): Promise<NgReply> {
    const instance = this.byId(id);
    const client = this.client;
    if (!client) throw new MediaUnavailableError('media anchor not started', id);
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const reply = await (verb === 'ping' ? client.ping(instance.dest) : client[verb](instance.dest, params));
      if (verb !== 'ping') this.options.observe?.(verb, reply.result === 'error' ? 'error' : 'ok', seconds());
      instance.failures = 0;
      return reply;
    } catch (err) {
      if (verb !== 'ping') this.options.observe?.(verb, 'error', seconds());
      instance.failures++;
      if (verb === 'ping' || instance.failures >= FAILURES_BEFORE_DOWN) this.mark(instance, false, String((err as Error)?.message ?? err));
      throw new MediaUnavailableError(`rtpengine ${id} did not answer ${verb}: ${String((err as Error)?.message ?? err)}`, id);
    }
  }

  private async pingAll(): Promise<void> {
    await Promise.all(
      this.instances.map(async (instance) => {
        if (instance.pinging) return;
        instance.pinging = true;
        try {
          const reply = await this.command(instance.id, 'ping', {});
          this.mark(instance, reply.result === 'pong', `ping answered ${String(reply.result)}`);
        } catch {
          // command() marked it down
        } finally {
          instance.pinging = false;
        }
      }),
    );
  }

  private mark(instance: Instance, healthy: boolean, why: string): void {
    if (instance.healthy === healthy) return;
    instance.healthy = healthy;
    const log = this.options.logger;
    if (healthy) log.info({ rtpengine: instance.id }, 'rtpengine is back in rotation');
    else log.warn({ rtpengine: instance.id, why }, 'rtpengine out of rotation');
    const { healthy: n, total } = this.health();
    this.options.onHealth?.(n, total);
  }
}

function sdpOf(reply: NgReply, verb: string, instance: string): string {
  if (reply.result === 'ok' && typeof reply.sdp === 'string') return reply.sdp;
  throw new MediaUnavailableError(`rtpengine refused ${verb}: ${reply['error-reason'] ?? reply.result ?? 'no result'}`, instance);
}
