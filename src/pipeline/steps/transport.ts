import type { TrunkRecord, Transport } from '../../domain/model.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/**
 * drachtio reports the transport in either case; the trunk lists udp|tcp|tls|wss. Plain "ws" is
 * none of them: an unencrypted WebSocket never passes as wss.
 */
function transportOf(value: string): Transport | null {
  const t = value.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' || t === 'wss' ? t : null;
}

/** Step 3: the trunk's allowed transports; a sips: Request-URI only over TLS. */
export function checkTransport(req: SipRequestView, trunk: TrunkRecord): Decision<Transport> {
  const transport = transportOf(req.transport);
  if (/^sips:/i.test(req.requestUri) && transport !== 'tls' && req.transport.toLowerCase() !== 'wss') {
    return reject('sips_requires_tls', `sips: Request-URI arrived over ${req.transport}`);
  }
  if (!transport || !trunk.inbound.transports.includes(transport)) {
    return reject('transport_not_allowed', `transport ${req.transport} not in [${trunk.inbound.transports.join(', ')}] of trunk ${trunk.id}`);
  }
  return proceed(transport);
}
