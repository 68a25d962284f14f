import type Srf from 'drachtio-srf';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { pingDrachtio } from '../types/drachtio.js';

export type DrachtioState = 'connecting' | 'connected' | 'disconnected';

/**
 * The app's link to drachtio-server, in either mode: inbound (the app connects to the server's
 * admin port; drachtio-srf reconnects with backoff by itself when the server restarts) or
 * outbound (the server connects to the app per call). Tracks the state for /readyz and a metric.
 */
export class DrachtioConnection {
  private current: DrachtioState = 'connecting';
  private detail = 'not connected yet';
  private server: { close(cb?: () => void): void } | null = null;
  private stallTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly srf: Srf,
    private readonly config: Config['drachtio'],
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  get state(): DrachtioState {
    return this.current;
  }

  get why(): string {
    return this.detail;
  }

  start(): void {
    const log = this.logger.child({ component: 'drachtio', mode: this.config.mode });
    this.srf.on('connect', (err: Error | null, hostport: string) => {
      if (err) {
        this.set('disconnected', `drachtio refused the connection: ${err.message}`);
        log.error({ err }, 'drachtio connection refused');
        return;
      }
      this.set('connected', `connected, SIP on ${hostport}`);
      log.info({ hostport }, 'connected to drachtio-server');
    });
    this.srf.on('error', (err: Error) => {
      this.set('disconnected', `drachtio connection error: ${err.message}`);
      log.warn({ err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'drachtio connection error');
    });
    (this.srf as unknown as NodeJS.EventEmitter).on('close', () => {
      this.set('disconnected', 'connection to drachtio-server closed; reconnecting');
      log.warn('drachtio connection closed');
    });
    (this.srf as unknown as NodeJS.EventEmitter).on('reconnecting', (opts: { delay?: number; attempt?: number }) => {
      log.debug({ delay: opts?.delay, attempt: opts?.attempt }, 'reconnecting to drachtio-server');
    });

    if (this.config.mode === 'inbound') {
      const reconnect = { retryMaxDelay: this.config.reconnect_max_ms };
      // Pings detect a silently dead server (no FIN) so the reconnect starts.
      const ping = { enablePing: true, pingInterval: 5000 };
      void this.srf.connect({ host: this.config.host, port: this.config.port, secret: this.config.secret, reconnect, ...ping } as Srf.SrfConfig);
      this.watchForStalls(log);
    } else {
      this.server = (this.srf.listen as unknown as (o: object) => { close(cb?: () => void): void })({
        host: this.config.listen_host,
        port: this.config.listen_port,
        secret: this.config.secret,
      });
      // In outbound mode drachtio-server connects per call; listening is being ready.
      this.set('connected', `listening for drachtio-server on ${this.config.listen_host}:${this.config.listen_port}`);
    }
  }

  /**
   * drachtio-server can stop reading the app for good (a message over its ~12 KB buffer) while the
   * TCP connection stays up: every INVITE then gets 100 Trying and nothing else. A ping unanswered
   * for one whole interval turns /readyz false and remakes the connection.
   */
  private watchForStalls(log: Logger): void {
    let probe: ReturnType<typeof pingDrachtio> | null = null;
    this.stallTimer = setInterval(() => {
      if (probe && this.current === 'connected' && !probe.answered()) {
        this.metrics.drachtioStalls.inc();
        this.set('disconnected', 'drachtio-server stopped answering pings; reconnecting');
        log.error({ afterMs: this.config.stall_check_ms }, 'drachtio-server stopped answering: dropping the connection');
        probe.drop();
        probe = null;
        return;
      }
      probe = this.current === 'connected' ? pingDrachtio(this.srf) : null;
    }, this.config.stall_check_ms);
    this.stallTimer.unref();
  }

  stop(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.srf.removeAllListeners('connect');
    if (this.server) this.server.close();
    else {
      try {
        this.srf.disconnect();
      } catch (err) {
        // drachtio-srf asserts when it never had a connection: nothing to close then.
        this.logger.debug({ err: { message: (err as Error).message } }, 'drachtio disconnect before any connection');
      }
    }
    this.set('disconnected', 'stopped');
  }

  private set(state: DrachtioState, detail: string): void {
    this.current = state;
    this.detail = detail;
    this.metrics.drachtioConnected.set(state === 'connected' ? 1 : 0);
  }
}
