import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { MediaAnchor } from './anchor.js';
import { CallMedia, type LegRole } from './callMedia.js';
import type { LegMode } from './policy.js';
import { RtpEngineAnchor } from './rtpengine.js';

export { CallMedia } from './callMedia.js';
export type { LegRole } from './callMedia.js';

/** The media anchor as the call path sees it. */
export interface MediaService {
  readonly anchor: MediaAnchor;
  /**
   * The anchored media of a new call on a healthy instance, or null when none is healthy (the
   * call is then refused with media_unavailable). trunkTimeoutS: the trunk's own media timeout.
   */
  open(callId: string, caller: { mode: LegMode; role: LegRole }, trunkTimeoutS: number | null, log: Logger): CallMedia | null;
  start(): void;
  stop(): void;
}

/** The media service of `media:` config; null with media.anchor off (SDP relayed as it comes). */
export function createMediaService(config: Config['media'], metrics: Metrics, logger: Logger, anchor?: MediaAnchor): MediaService | null {
  if (config.anchor === 'off') return null;
  const log = logger.child({ component: 'media' });
  const media: MediaAnchor =
    anchor ??
    new RtpEngineAnchor({
      instances: config.rtpengine,
      commandTimeoutMs: config.command_timeout_ms,
      pingIntervalMs: config.ping_interval_ms,
      logger: log,
      onHealth: (healthy) => metrics.mediaInstancesHealthy.set(healthy),
      observe: (command, result, seconds) => metrics.mediaCommandSeconds.observe({ command, result }, seconds),
    });
  metrics.mediaInstancesHealthy.set(media.health().healthy);
  return {
    anchor: media,
    open(callId, caller, trunkTimeoutS, callLog) {
      const call = media.place(callId);
      if (!call) return null;
      const timeoutMs = (trunkTimeoutS ?? config.timeout_s) * 1000;
      const holdTimeoutMs = config.hold_timeout_s * 1000;
      // a quarter of the shorter timeout: a dead call ends within ~1/4 of its timeout past it (between 250 ms and 5 s)
      const checkIntervalMs = Math.min(5000, Math.max(250, Math.floor(Math.min(timeoutMs || Infinity, holdTimeoutMs || Infinity) / 4)));
      return new CallMedia(call, caller, { anchor: media, timeouts: { timeoutMs, holdTimeoutMs, checkIntervalMs }, metrics, log: callLog.child({ rtpengine: call.instance }) });
    },
    start: () => media.start(),
    stop: () => media.stop(),
  };
}
