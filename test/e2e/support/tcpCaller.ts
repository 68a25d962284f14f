import type { DrachtioServer } from '../../helpers/drachtioServer.js';
import { exampleSdpOffer, sendTlsInvite, type SendInviteOptions, type SendInviteResult } from '../../helpers/tlsClient.js';

/**
 * A carrier calling `did` over plain TCP from `source` (a trunk's loopback address) with a minimal
 * RTP offer, through the raw-socket client: for what SIPp cannot script (ACK and BYE in one
 * segment, requests inside the dialog with chosen headers, a missing Contact).
 */
export function callOverTcp(drachtio: DrachtioServer, source: string, did: string, extra: Partial<SendInviteOptions> = {}): Promise<SendInviteResult> {
  return sendTlsInvite({
    host: '127.0.0.1',
    port: drachtio.sipPort,
    tls: false,
    localAddress: source,
    requestUri: `sip:${did}@127.0.0.1:${drachtio.sipPort};transport=tcp`,
    from: 'sip:+15557654321@127.0.0.1',
    to: `sip:${did}@127.0.0.1`,
    sdp: exampleSdpOffer(source),
    ...extra,
  });
}
