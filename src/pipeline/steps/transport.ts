import type { TrunkRecord, Transport } from '../../domain/model.js';
import { proceed, reject, type Decision, type SipRequestView } from '../types.js';

/** drachtio reports "ws"/"wss" and upper or lower case; the trunk lists udp|tcp|tls|wss. */
function transportOf(value: string): Transport | null {
  const t = value.toLowerCase();
  if (t === 'udp' || t === 'tcp' || t === 'tls' || t === 'wss') return t;
  if (t === 'ws') return 'wss';
  return null;
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
