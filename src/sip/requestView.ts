import type Srf from 'drachtio-srf';
import type { SipRequestView } from '../pipeline/types.js';

/** The pipeline's view of a live drachtio request. */
export function viewOf(req: Srf.SrfRequest): SipRequestView {
  return {
    method: req.method,
    callId: req.get('Call-ID'),
    sourceAddress: req.source_address,
    transport: String(req.protocol ?? '').toLowerCase(),
    requestUri: req.uri,
    to: req.get('To') ?? '',
    from: req.get('From') ?? '',
    body: req.body ? req.body : undefined,
    contentType: req.has('Content-Type') ? req.get('Content-Type') : undefined,
    header: (name) => (req.has(name) ? req.get(name) : undefined),
  };
}
