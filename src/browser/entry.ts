import type Srf from 'drachtio-srf';
import type { TrunkRecord } from '../domain/model.js';
import type { TestCallsConfig } from './config.js';

/**
 * The browser entry as the limits, the call records and billing see it: a trunk of its own,
 * `@browser` (no trunk the API creates can have that id: ids start with a letter or digit).
 */
export const BROWSER_TRUNK_ID = '@browser';

export function browserEntryTrunk(config: TestCallsConfig): TrunkRecord {
  const stamp = new Date(0).toISOString();
  return {
    id: BROWSER_TRUNK_ID,
    name: 'browser test calls',
    kind: 'managed',
    workspace_id: null,
    inbound: { allowed_cidrs: [], transports: ['wss'], media_encryption: 'required', trusted_identity: false },
    outbound: { termination_uris: [], transport: 'udp', media_encryption: 'allowed', allowed_countries: [], block_premium: true },
    limits: { max_concurrent_calls: config.max_concurrent_calls, max_cps: config.max_cps },
    max_call_duration_s: config.max_call_duration_s,
    media_timeout_s: null,
    created_at: stamp,
    updated_at: stamp,
  };
}

/**
 * Whether a request came in on the browser entry: drachtio-server's ws/wss listeners. drachtio
 * reports ws and wss as "tcp", so the port the request arrived on (drachtio-srf's receivedOn,
 * "host:port" of the listening transport) is what tells a browser from a carrier.
 */
export function onBrowserEntry(req: Pick<Srf.SrfRequest, never>, entryPorts: ReadonlySet<number>): boolean {
  const on = (req as { receivedOn?: unknown }).receivedOn;
  if (typeof on !== 'string' || entryPorts.size === 0) return false;
  const port = Number(on.slice(on.lastIndexOf(':') + 1));
  return entryPorts.has(port);
}
