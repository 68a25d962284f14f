import type Srf from 'drachtio-srf';
import type { Logger } from '../observability/logger.js';
import type { LogBudget } from '../observability/logBudget.js';
import type { Metrics } from '../observability/metrics.js';
import { evaluateUnparseable, type RequestPipelineDeps } from '../pipeline/requests.js';
import { onUnparseable, type UnparseableMessage } from '../types/drachtio.js';
import { answerRefusal } from './replies.js';

export interface UnparseableDeps {
  readonly pipeline: RequestPipelineDeps;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly logBudget: LogBudget;
  readonly retryAfterS: number;
}

const FIRST_LINE_MAX = 80;

/**
 * What a log line may say about a message the edge could not read: its first line, cut to 80
 * characters, control characters as "?", a password in a SIP URI's user part masked. Never the
 * headers or the body (digest responses, SDP keys).
 */
export function firstLineSummary(text: string): string {
  const end = text.search(/[\r\n]/);
  let line = end === -1 ? text.slice(0, FIRST_LINE_MAX * 2) : text.slice(0, Math.min(end, FIRST_LINE_MAX * 2));
  line = line.replace(/[^\x20-\x7e]/g, '?');
  // sip:user:password@host (RFC 3261 19.1.1, deprecated but parsed)
  line = line.replace(/(\b[A-Za-z][A-Za-z0-9+.-]*:[^:@\s;]*):[^@\s]*@/g, '$1:***@');
  return line.length > FIRST_LINE_MAX ? `${line.slice(0, FIRST_LINE_MAX)}...` : line;
}

/**
 * Messages drachtio-srf cannot parse: the source gates decide as for any request (a flood of
 * them, or a source in its cool-off, is dropped; an unknown source gets what unknown sources
 * get), the rest get 400 Bad Request. One log line with the source, the size and the first line,
 * within the log budget; every one counted.
 */
export function guardUnparseable(srf: Srf, deps: UnparseableDeps): void {
  onUnparseable(srf, (message, reply) => {
    const refusal = evaluateUnparseable(message.sourceAddress, deps.pipeline);
    const answered = reply !== null && refusal.kind === 'reject';
    if (answered) answerRefusal(reply, refusal, deps.retryAfterS);
    deps.metrics.unparseableMessages.inc({ outcome: answered ? 'answered' : 'released' });
    deps.metrics.rejections.inc({ reason: refusal.reason });
    const budget = deps.logBudget.take('unparseable');
    if (budget) deps.logger.warn(logFields(message, refusal.reason, answered, budget.suppressed), 'unparseable SIP message');
  });
}

function logFields(message: UnparseableMessage, reason: string, answered: boolean, suppressed: number) {
  return {
    source: message.sourceAddress,
    port: message.sourcePort,
    transport: message.transport,
    size: Buffer.byteLength(message.text),
    firstLine: firstLineSummary(message.text),
    kind: message.isRequest ? 'request' : 'response',
    reason,
    answered,
    ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}),
  };
}
