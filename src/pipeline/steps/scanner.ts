import { drop, proceed, type Decision, type SipRequestView } from '../types.js';

/** Step 0: known scanners (sipvicious, friendly-scanner, ...) get no answer at all. */
export function checkScanner(req: SipRequestView, patterns: readonly RegExp[]): Decision<void> {
  const ua = req.header('user-agent') ?? '';
  const hit = patterns.find((p) => p.test(ua));
  return hit ? drop('scanner', `User-Agent matches ${hit.source}`) : proceed(undefined);
}

export function scannerPatterns(list: readonly string[]): RegExp[] {
  return list.map((s) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
}
