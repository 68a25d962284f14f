/**
 * Session timers (RFC 4028), each leg on its own: a B2BUA is the far end of both sessions.
 * drachtio-server runs the timer of a dialog whose 200 carries Session-Expires: it sends the
 * refreshes when the edge is the refresher and, when the other side is and fails to refresh (or a
 * refresh of ours fails), it sends BYE and tells the app with a BYE whose Reason says "Session timer
 * expired". The edge decides the headers that arm those timers and reads that reason.
 */
export interface SessionTimerSettings {
  /** Session-Expires the edge asks for (and grants when the caller asks for none) */
  readonly intervalS: number;
  /** the smallest interval the edge accepts (Min-SE); below it: 422 */
  readonly minSeS: number;
}

export interface RequestedTimer {
  readonly intervalS: number | null;
  readonly refresher: 'uac' | 'uas' | null;
  /** the caller supports timers (Supported or Require: timer) */
  readonly supported: boolean;
}

function optionTags(value: string | undefined): string[] {
  return (value ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
}

/** What a request asks for: Session-Expires (or its compact form x), its refresher, timer support. */
export function requestedTimer(header: (name: string) => string | undefined): RequestedTimer {
  const se = header('Session-Expires') ?? header('x');
  const match = se ? /^\s*(\d+)\s*(?:;(.*))?$/.exec(se) : null;
  const refresher = match?.[2] ? /(?:^|;)\s*refresher\s*=\s*(uac|uas)\b/i.exec(match[2])?.[1]?.toLowerCase() : undefined;
  const supported = [...optionTags(header('Supported') ?? header('k')), ...optionTags(header('Require'))].includes('timer');
  return {
    intervalS: match ? Number(match[1]) : null,
    refresher: refresher === 'uac' || refresher === 'uas' ? refresher : null,
    supported,
  };
}

/**
 * The headers of the edge's 200 to the caller (RFC 4028 9). A caller that asked for a timer gets
 * its interval (never below Min-SE) and its refresher, or the caller itself when it supports timers
 * and named none, the edge otherwise; Require: timer whenever the caller is the refresher. A caller
 * that supports timers but asked for none gets the edge's interval with itself as refresher.
 */
export function timerHeadersForCaller(asked: RequestedTimer, settings: SessionTimerSettings): Record<string, string> {
  if (asked.intervalS === null && !asked.supported) return {};
  const interval = Math.max(asked.intervalS ?? settings.intervalS, settings.minSeS);
  const refresher = asked.refresher ?? (asked.supported ? 'uac' : 'uas');
  return {
    'Session-Expires': `${interval};refresher=${refresher}`,
    ...(refresher === 'uac' ? { Require: 'timer' } : {}),
  };
}

/** The headers of the INVITE to the called party: the edge refreshes that leg (RFC 4028 7.1). */
export function timerHeadersForCallee(settings: SessionTimerSettings): Record<string, string> {
  return { 'Session-Expires': `${settings.intervalS};refresher=uac`, 'Min-SE': String(settings.minSeS), Supported: 'timer' };
}

/** drachtio-server's word that a leg ended for want of a refresh (the Reason text of its BYE). */
export function endedBySessionTimer(reason: unknown): boolean {
  return typeof reason === 'string' && /session timer expired/i.test(reason);
}

