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

/** JSON logs; async destination so logging never blocks the SIP path. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'sip-edge' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
}
