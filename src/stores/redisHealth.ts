import type { Cluster, Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import { isCluster, type RedisClient } from './redis.js';
import { SLOTS } from './slots.js';

export interface HealthState {
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Readiness of Redis as each mode needs it, probed in the background (readyz reads the last
 * result and never waits on Redis):
 * - standalone: the server answers PING;
 * - sentinel: the server answers and is the master (ROLE), not a replica left behind by a failover;
 * - cluster: every slot is served, every master answers PING, and the cluster says it is ok.
 *   A master that stopped answering shows here at once, before the cluster marks it failed.
 */
export class RedisHealth {
  private current: HealthState = { ok: false, detail: 'not probed yet' };
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly mode: Config['redis']['mode'],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get state(): HealthState {
    return this.current;
  }

  start(): void {
    if (this.timer) return;
    void this.probe();
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One probe now; returns (and keeps) its result. */
  async probe(): Promise<HealthState> {
    if (this.running) return this.current;
    this.running = true;
    try {
      const next = await this.check();
      if (next.ok !== this.current.ok) this.logger[next.ok ? 'info' : 'warn']({ detail: next.detail }, `redis ${next.ok ? 'healthy' : 'unhealthy'}`);
      this.current = next;
    } catch (err) {
      this.current = { ok: false, detail: (err as Error).message };
    } finally {
      this.running = false;
    }
    return this.current;
  }

  private async check(): Promise<HealthState> {
    if (this.redis.status !== 'ready') return { ok: false, detail: `redis ${this.redis.status}` };
    if (isCluster(this.redis)) return this.checkCluster(this.redis);
    await (this.redis as Redis).ping();
    if (this.mode === 'sentinel') {
      const role = (await (this.redis as Redis).role()) as [string, ...unknown[]];
      if (role[0] !== 'master') return { ok: false, detail: `sentinel: connected to a ${role[0]}, not the master` };
    }
    return { ok: true, detail: 'ready' };
  }

  private async checkCluster(cluster: Cluster): Promise<HealthState> {
    let unserved = 0;
    for (let slot = 0; slot < SLOTS; slot++) if (!cluster.slots[slot]?.[0]) unserved++;
    if (unserved > 0) return { ok: false, detail: `cluster: ${unserved} slots without a master` };
    const masters = cluster.nodes('master');
    const pings = await Promise.allSettled(masters.map((m) => m.ping()));
    const down = masters.filter((_, i) => pings[i]!.status === 'rejected').map((m) => `${m.options.host}:${m.options.port}`);
    if (down.length > 0) return { ok: false, detail: `cluster: master ${down.join(', ')} not answering` };
    const info = String(await masters[0]!.cluster('INFO'));
    const state = /cluster_state:(\w+)/.exec(info)?.[1] ?? 'unknown';
    if (state !== 'ok') return { ok: false, detail: `cluster: state ${state}` };
    return { ok: true, detail: `cluster ok, ${masters.length} masters` };
  }
}
