import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describe } from 'vitest';
import { describeE2E } from '../helpers/drachtioServer.js';
import { BARESIP_BIN, countPackets, startBaresip, TCPDUMP_BIN, type Baresip } from '../helpers/baresip.js';
import { waitUntil } from '../helpers/localProcess.js';
import { describeRtpengine, startRtpengine, type Rtpengine } from '../helpers/rtpengine.js';
import { ofCall, readBillingEvents, type BillingEvent } from './support/billingStream.js';
import { useEdge } from './support/fixture.js';

interface LegMedia {
  packets: number;
  errors: number;
  mos: number | null;
  jitter_ms: number | null;
  packet_loss_pct: number | null;
}

const describeBaresip = describe.skipIf(!BARESIP_BIN || !TCPDUMP_BIN);
let host = 30;

/** Real endpoints (baresip with audio, SDES and DTLS-SRTP) through the anchor: audio counted at both ends with tcpdump. */
describeE2E('media anchor with real SRTP endpoints', () => {
  describeRtpengine('with rtpengine', () => {
    describeBaresip('baresip on both sides', () => {
      let rtp: Rtpengine;
      beforeAll(async () => {
        rtp = await startRtpengine();
      });
      afterAll(async () => {
        await rtp?.stop();
      });
      const fx = useEdge(() => ({ media: { anchor: (process.env.MEDIA_PROOF_OFF ? 'off' : 'always') as 'off' | 'always', rtpengine: [rtp.ng], command_timeout_ms: 300, ping_interval_ms: 250 } }));

      async function talk(carrierParams: string[], agentParams: string[], trunk: Record<string, unknown>, agentEncryption: 'disabled' | 'sdes' | 'dtls') {
        const agent = await startBaresip({ ip: `127.0.4.${host++}`, user: 'agent', params: ['answermode=auto', ...agentParams] });
        let carrier: Baresip | null = null;
        try {
          const agentRecord = await fx.world.agent(agent.uri, { media_encryption: agentEncryption });
          const r = await fx.world.route({ agentUri: agent.uri, trunk });
          await fx.edge.app.catalog.replaceNumber(r.number.id, (n) => ({ ...n, inbound_routing: { agent_id: agentRecord.id, fallback: null, voicemail_message: null } }));
          carrier = await startBaresip({ ip: r.source, user: 'carrier', params: carrierParams });
          const toAgent = await countPackets(`udp and dst portrange ${agent.rtpMin}-${agent.rtpMax}`);
          const toCarrier = await countPackets(`udp and dst portrange ${carrier.rtpMin}-${carrier.rtpMax}`);
          const before = new Set((await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).map((e) => e.call_id));
          await carrier.command(`/dial sip:${r.number.phone_number}@127.0.0.1:${fx.drachtio.sipPort}`);
          await waitUntil(() => toAgent.count() > 100 && toCarrier.count() > 100, { timeoutMs: 10_000, what: 'audio at both ends' }).catch((err: Error) => {
            throw new Error(`${err.message} (agent got ${toAgent.count()}, carrier ${toCarrier.count()})\n--- carrier\n${carrier!.output().slice(-3000)}\n--- agent\n${agent.output().slice(-3000)}`);
          });
          await new Promise((res) => setTimeout(res, 5500)); // long enough for RTCP reports (every ~5 s)
          await carrier.command('/hangup');
          let ended: BillingEvent | undefined;
          await waitUntil(
            async () => {
              const events = await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix);
              ended = events.find((e) => e.type === 'call.ended' && !before.has(e.call_id));
              return ended !== undefined;
            },
            { timeoutMs: 5000, what: 'call.ended' },
          );
          return { ended: ended!, atAgent: await toAgent.stop(), atCarrier: await toCarrier.stop(), carrier, agent };
        } finally {
          await carrier?.stop();
          await agent.stop();
        }
      }

      function expectAudioBothWays(result: Awaited<ReturnType<typeof talk>>): void {
        const media = result.ended.media as { from_carrier: LegMedia; from_agent: LegMedia };
        expect(result.ended.end_cause).toBe('caller_hangup');
        expect(result.atAgent).toBeGreaterThan(200);
        expect(result.atCarrier).toBeGreaterThan(200);
        // the anchor took each leg's packets; packets it could not take (SRTP before a DTLS
        // handshake completed, say) are its errors, and stay a small part
        expect(media.from_carrier.packets).toBeGreaterThan(200);
        expect(media.from_agent.packets).toBeGreaterThan(200);
        expect(media.from_carrier.errors).toBeLessThan(media.from_carrier.packets / 4);
        expect(media.from_agent.errors).toBeLessThan(media.from_agent.packets / 4);
        if (process.env.E2E_MEDIA_DEBUG) process.stderr.write(`${JSON.stringify(result.ended.media)}\n`);
      }

      it('SDES SRTP carrier (required trunk) to an RTP agent: audio both ways', async () => {
        const result = await talk(['mediaenc=srtp-mand'], [], { inbound: { media_encryption: 'required' } }, 'disabled');
        expectAudioBothWays(result);
      });

      it('DTLS-SRTP carrier to an RTP agent: audio both ways', async () => {
        expectAudioBothWays(await talk(['mediaenc=dtls_srtp'], [], { inbound: { media_encryption: 'required' } }, 'disabled'));
      });

      it('RTP carrier to an SDES agent: audio both ways; RTCP figures in call.ended are plausible where rtpengine gives them', async () => {
        const result = await talk([], ['mediaenc=srtp-mand'], { inbound: { media_encryption: 'disabled' } }, 'sdes');
        expectAudioBothWays(result);
        const media = result.ended.media as { from_carrier: LegMedia; from_agent: LegMedia };
        for (const leg of [media.from_carrier, media.from_agent]) {
          if (leg.mos !== null) expect(leg.mos).toBeGreaterThanOrEqual(1);
          if (leg.packet_loss_pct !== null) expect(leg.packet_loss_pct).toBeLessThan(5);
        }
      });
    });
  });
});
