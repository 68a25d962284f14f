import type Srf from 'drachtio-srf';
import { requestedTimer, timerHeadersForCaller, type SessionTimerSettings } from '../domain/sessionTimer.js';

/** The final-response headers for the caller: the 200's timer headers (18x get the Contact elsewhere). */
export function callerTimerResponse(req: Srf.SrfRequest, settings: SessionTimerSettings): (res: { status: number }) => Record<string, string> {
  const headers = timerHeadersForCaller(requestedTimer((name) => (req.has(name) ? req.get(name) : undefined)), settings);
  return (res) => (res.status >= 200 && res.status < 300 ? headers : {});
}
