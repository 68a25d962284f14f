import { Counter, type Registry } from 'prom-client';

const NAME = 'sip_edge_admin_requests_total';
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export type AdminRequestCounter = Counter<'method' | 'route' | 'status'>;

/**
 * Admin requests by method, route template (never the raw URL: no ids in labels) and status.
 * Registered once per registry, so several admin servers may share one (tests do).
 */
export function adminRequestCounter(registry: Registry): AdminRequestCounter {
  const existing = registry.getSingleMetric(NAME);
  if (existing) return existing as AdminRequestCounter;
  return new Counter({
    name: NAME,
    help: 'Admin HTTP API requests, by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
}

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}
