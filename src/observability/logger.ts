import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths whose values never reach a log line: the secrets of the objects the edge logs (trunk
 * records, config, admin requests, drachtio-srf errors carrying a request). Explicit paths only:
 * pino's wildcard paths ("*.password") cost ~20 us on every line and every child logger, which is
 * a third of the edge's logging cost per call; an object with a secret somewhere else must be
 * logged through a path added here (logger.test.ts checks every one).
 */
export const REDACT_PATHS = [
  'password',
  'auth_password',
  'token',
  'secret',
  'nonce_secret',
  'authorization',
  'sdp',
  'inbound.auth_password',
  'outbound.auth_password',
  'trunk.inbound.auth_password',
  'trunk.outbound.auth_password',
  'body.inbound.auth_password',
  'body.outbound.auth_password',
  'config.admin.token',
  'config.drachtio.secret',
  'config.sip.nonce_secret',
  'config.callbacks.secret',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
];

const cut = (value: string, max: number): string => (value.length > max ? `${value.slice(0, max)}...` : value);

/**
 * The `err` of a log line: type, message, stack and the scalar fields errors carry (code, SIP
 * status, reason), each cut short; one level of `cause`. pino's standard serializer copies every
 * enumerable property, and drachtio-srf errors carry whole SIP messages (a SipError's response,
 * a request with its Proxy-Authorization and SDP): those never reach a log line.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) {
    const message = typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? (err as { message: string }).message : String(err);
    return { message: cut(message, 500) };
  }
  const out: Record<string, unknown> = { type: err.name, message: cut(err.message, 500) };
  if (err.stack) out.stack = cut(err.stack, 4000);
  const fields = err as unknown as Record<string, unknown>;
  for (const key of ['code', 'status', 'reason', 'errno', 'syscall']) {
    const value = fields[key];
    if (typeof value === 'number' || typeof value === 'boolean') out[key] = value;
    else if (typeof value === 'string') out[key] = cut(value, 200);
  }
  if (depth === 0 && err.cause !== undefined) out.cause = serializeError(err.cause, 1);
  return out;
}

/** How long a log line may wait in the async buffer: an operator tailing logs sees it within this. */
export const LOG_FLUSH_MS = 250;

/**
 * JSON logs; async destination so logging never blocks the SIP path. Lines are buffered up to
 * 4 KB and flushed at least every LOG_FLUSH_MS, so at a low call rate they still show at once.
 */
export function createLogger(level: string, destination?: DestinationStream | { file: string }): Logger {
  let stream: DestinationStream;
  if (destination && !('file' in destination)) stream = destination;
  else {
    const sonic = pino.destination({ dest: destination?.file ?? 1, sync: false, minLength: 4096 });
    setInterval(() => {
      try {
        sonic.flush();
      } catch {
        // not ready yet (file still opening) or closed at exit: the next tick flushes
      }
    }, LOG_FLUSH_MS).unref();
    stream = sonic;
  }
  return pino(
    {
      level,
      base: { service: 'sip-edge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: (err: unknown) => serializeError(err) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}
