/// <reference lib="dom" />
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildTestCallPage } from '../../scripts/build-page.mjs';
import { issueToken } from '../../src/browser/token.js';
import { CHROMIUM_ARGS, CHROMIUM_BIN, describeChromium, trustCertificateFlag } from '../helpers/chromium.js';
import { describeE2E } from '../helpers/drachtioServer.js';
import { NETNS_MARK, netnsUnavailable, onlyLoopback, runInNetns } from '../helpers/netns.js';
import { describeRtpengine, startRtpengine, type Rtpengine } from '../helpers/rtpengine.js';
import { header, receivedRequests, startSippUas, type SippUas } from '../helpers/sipp.js';
import { readBillingEvents, type BillingEvent } from './support/billingStream.js';
import { useEdge } from './support/fixture.js';
import { RtpEndpoint } from './support/rtp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'browser-e2e-test-call-secret-0123456789';
const SCREENSHOT = join(ROOT, 'docs', 'test-call-page.png');

/**
 * Chromium's WebRTC offers a candidate on every interface it sees. On a machine with a network,
 * the anchor would send ICE checks to those addresses: the test bed then runs in a network
 * namespace of its own that has only loopback (this file again, in a child vitest).
 */
const LOOPBACK_ONLY = onlyLoopback();
const IN_NETNS = process.env[NETNS_MARK] === '1';
const netnsProblem = LOOPBACK_ONLY ? null : netnsUnavailable();
if (CHROMIUM_BIN && netnsProblem) process.stderr.write(`\n*** BROWSER E2E SKIPPED: this machine has non-loopback interfaces and no network namespace can be made (${netnsProblem}) ***\n\n`);

describeChromium('browser test call in a real browser', () => {
  describe.runIf(!LOOPBACK_ONLY && !IN_NETNS && !netnsProblem)('in a network namespace with only loopback', () => {
    it('passes there (child vitest run of this file under unshare -n)', async () => {
      const run = await runInNetns(['npx', 'vitest', 'run', '--project', 'e2e', 'test/e2e/browser.test.ts'], { cwd: ROOT, env: { NO_COLOR: '1', FORCE_COLOR: '0' }, timeoutMs: 170_000 });
      const output = run.output.replace(/\x1b\[[0-9;]*m/g, '');
      if (run.code !== 0) process.stderr.write(output);
      expect(run.code, 'the browser e2e in its network namespace failed (its output is above)').toBe(0);
      // it ran the browser tests (two), it did not skip them
      expect(Number(/Tests\s+(\d+) passed/.exec(output)?.[1] ?? 0), output.slice(-2000)).toBeGreaterThanOrEqual(2);
      expect(output).not.toMatch(/\*\*\* [A-Z0-9 ]*SKIPPED/);
    }, 180_000);
  });

  describe.runIf(LOOPBACK_ONLY)('on loopback', () => {
    describeE2E('edge, drachtio, rtpengine, SIPp agent', () => {
      describeRtpengine('with rtpengine', () => {
        let rtp: Rtpengine;
        let browser: Browser;
        beforeAll(async () => {
          rtp = await startRtpengine();
          await buildTestCallPage();
        });
        afterAll(async () => {
          await rtp?.stop();
        });
        const fx = useEdge(
          () => ({
            media: { anchor: 'always', rtpengine: [rtp.ng], command_timeout_ms: 500, ping_interval_ms: 250 },
            test_calls: { secret: SECRET, entry_ports: [fx.drachtio.wssPort!], ws_url: `wss://127.0.0.1:${fx.drachtio.wssPort}`, token_ttl_s: 60 },
          }),
          { drachtio: { wss: true } },
        );

        beforeAll(async () => {
          browser = await puppeteer.launch({ executablePath: CHROMIUM_BIN!, headless: true, args: [...CHROMIUM_ARGS, trustCertificateFlag(fx.drachtio.certPath!)] });
        });
        // before the edge stops (after-hooks run last-registered first): the admin API's close waits for the browser's connections
        afterAll(async () => {
          await browser?.close();
        });

        async function openPage(): Promise<Page> {
          const page = await browser.newPage();
          await page.setViewport({ width: 900, height: 1000 });
          const res = await page.goto(`${fx.edge.adminUrl}/test-call`, { waitUntil: 'load' });
          expect(res?.status()).toBe(200);
          return page;
        }

        const state = (page: Page) => page.$eval('#status', (el) => (el as HTMLElement).dataset.state);
        const text = (page: Page, id: string) => page.$eval(`#${id}`, (el) => el.textContent ?? '');
        const billing = async (numberId: string): Promise<BillingEvent[]> =>
          (await readBillingEvents(inject('redisUrl'), fx.edge.config.redis.key_prefix)).filter((e) => e.number_id === numberId);

        /** An agent on its own address whose RTP endpoint counts what reaches it and streams back. */
        async function agent(ip: string): Promise<{ uas: SippUas; media: RtpEndpoint }> {
          const media = await RtpEndpoint.open(ip);
          const uas = await startSippUas({ scenario: 'uas-agent-media', ip, keys: { rtp_port: String(media.port), reinvite_dir: 'sendrecv' } });
          return { uas, media };
        }

        it('calls a number from the page: answered by the agent, audio both ways through the anchor, billed as browser_test on actual duration', async () => {
          const { uas, media } = await agent('127.0.8.10');
          const page = await openPage();
          try {
            const a = await fx.world.agent(uas.uri);
            const number = await fx.world.number({ inbound_routing: { agent_id: a.id } });

            // what an operator does: token, workspace, load the numbers, pick one, Call
            await page.type('#apiToken', fx.edge.token);
            await page.type('#workspace', number.workspace_id);
            await page.click('#load');
            await page.waitForFunction((id) => Array.from(document.querySelectorAll("#target option")).some((o) => (o as HTMLOptionElement).value === id), { timeout: 5000 }, number.id);
            await page.select('#target', number.id);
            await page.click('#call');

            const [invite] = await uas.waitFor((m) => receivedRequests(m, 'INVITE').length > 0);
            media.streamToSdp(invite!.body);
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'in call', { timeout: 15_000 });
            expect(header(invite!, 'X-Test-Call')).toBe('true');
            expect(header(invite!, 'X-Number-Id')).toBe(number.id);
            // the browser's audio reaches the agent through rtpengine, and the agent's reaches the browser
            await expect.poll(() => media.received, { timeout: 10_000 }).toBeGreaterThan(50);
            await expect
              .poll(async () => (await page.evaluate(() => (window as unknown as { testCall: { audioStats(): Promise<{ received: number } | null> } }).testCall.audioStats()))?.received ?? 0, { timeout: 10_000 })
              .toBeGreaterThan(25);
            expect(media.source?.address).toBe('127.0.0.1');
            expect(media.source!.port >= rtp.portMin && media.source!.port <= rtp.portMax).toBe(true);
            await new Promise((r) => setTimeout(r, 700));
            mkdirSync(dirname(SCREENSHOT), { recursive: true });
            await page.screenshot({ path: SCREENSHOT, fullPage: true });

            await page.click('#hangup');
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'ended', { timeout: 10_000 });
            media.stop();
            const shown = await page.evaluate(() => {
              const v = (window as unknown as { testCall: { answeredAt: number; endedAt: number } }).testCall;
              return v.endedAt - v.answeredAt;
            });

            await expect.poll(async () => (await billing(number.id)).map((e) => e.type), { timeout: 5000 }).toContain('call.ended');
            const events = await billing(number.id);
            expect(events.map((e) => e.type).sort()).toEqual(['call.answered', 'call.ended', 'call.started']);
            for (const e of events) expect([e.browser_test, e.plan?.id, e.trunk_id]).toEqual([true, 'actual_1/1', '@browser']);
            const ended = events.find((e) => e.type === 'call.ended')!;
            const durationMs = ended.duration_ms as number;
            // the duration the page saw, within signalling latency; billed on it, rounded up to the second
            expect(Math.abs(durationMs - shown)).toBeLessThan(1500);
            expect(ended.billable_s).toBe(Math.ceil(durationMs / 1000));
            expect(ended.billable_s).toBeLessThan(60);
            const fromBrowser = (ended.media as { from_carrier: { packets: number } }).from_carrier.packets;
            expect(fromBrowser).toBeGreaterThan(50);
          } finally {
            await page.close();
            media.close();
            await uas.stop();
          }
        });

        it('shows why a reused and an expired token are refused', async () => {
          const { uas, media } = await agent('127.0.8.11');
          const page = await openPage();
          try {
            const a = await fx.world.agent(uas.uri);
            const grant = (await fx.edge.api('/v1/test-calls', { body: { workspace_id: a.workspace_id, agent_id: a.id } })).body;
            const place = (g: unknown) => page.evaluate((x) => (window as unknown as { testCall: { placeCall(g: unknown): void } }).testCall.placeCall(x), g as never);

            await place(grant);
            const [invite] = await uas.waitFor((m) => receivedRequests(m, 'INVITE').length > 0);
            media.streamToSdp(invite!.body);
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'in call', { timeout: 15_000 });
            await page.click('#hangup');
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'ended', { timeout: 10_000 });

            await place(grant);
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'failed', { timeout: 10_000 });
            expect(await text(page, 'reason')).toBe('test_call_token_used');
            expect(await text(page, 'sipStatus')).toMatch(/^403 /);

            const expired = issueToken(SECRET, { workspaceId: a.workspace_id, target: { kind: 'agent', id: a.id }, ttlS: 30, nowMs: Date.now() - 31_000 }).token;
            await place({ ...grant, token: expired });
            await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'failed' && document.querySelector('#reason')?.textContent === 'test_call_token_expired', { timeout: 10_000 });
            expect(await state(page)).toBe('failed');
            await page.screenshot({ path: join(dirname(SCREENSHOT), 'test-call-page-refused.png'), fullPage: true });
            // only the first call reached the agent
            expect(receivedRequests(uas.messages(), 'INVITE')).toHaveLength(1);
          } finally {
            await page.close();
            media.close();
            await uas.stop();
          }
        });
      });
    });
  });
});
