import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../../helpers/drachtioServer.js';
import { buildRequest, newCallId, RawSipPeer, type RequestParts } from '../../helpers/rawSip.js';
import type { SipMessage } from '../../helpers/sipTrace.js';
import { useHostileEdge } from './support/edge.js';

/**
 * Issue 12, item 8: the answers RFC 3261 asks of a UAS for requests it cannot or will not
 * process, from a trunk's own address, through drachtio-server; and torture messages in the
 * style of RFC 4475 (written for this edge): odd but valid ones are processed as usual, broken
 * ones get 400 (from drachtio-server, or from the edge for what only drachtio-srf cannot read).
 */
describeE2E('hostile input: RFC 3261 answers and torture messages', () => {
  const fx = useHostileEdge();
  let peer: RawSipPeer;
  let number: string;

  beforeAll(async () => {
    const r = await fx.route();
    number = r.number.phone_number;
    peer = await RawSipPeer.open(r.source);
  });
  afterAll(() => peer?.close());

  /** Sends one request and resolves with its final response (null after 3 s). */
  async function ask(parts: Omit<RequestParts, 'via'> | ((via: string, callId: string) => string)): Promise<SipMessage | null> {
    const callId = newCallId();
    const text = typeof parts === 'function' ? parts(peer.hostport, callId) : buildRequest({ ...parts, via: peer.hostport, callId });
    await peer.send(text, fx.target.port);
    return peer.finalResponse(callId, 3000);
  }
  const uri = (): string => `sip:${number}@127.0.0.1`;
  /** An INVITE to a number nobody registered: a request the edge read to the end answers 404 number_not_found. */
  const unknownNumber = (via: string, callId: string, extra: [string, string][] = []): string =>
    buildRequest({ method: 'INVITE', requestUri: 'sip:+15559990000@127.0.0.1', via, callId, headers: extra });

  it.each(['REGISTER', 'SUBSCRIBE', 'PUBLISH', 'MESSAGE', 'INFO', 'NOTIFY'])('%s outside a dialog -> 405 with Allow', async (method) => {
    const final = await ask({ method, requestUri: uri(), headers: method === 'SUBSCRIBE' || method === 'NOTIFY' || method === 'PUBLISH' ? [['Event', 'presence']] : [] });
    expect(final?.status).toBe(405);
    expect(final?.headers['x-reject-reason']).toEqual(['method_not_allowed']);
    const allow = final?.headers.allow?.[0]?.split(/\s*,\s*/) ?? [];
    expect(allow).toEqual(expect.arrayContaining(['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS']));
    expect(allow).not.toContain(method);
  });

  it('Max-Forwards 0 on an INVITE -> 483 Too Many Hops (the edge would forward it)', async () => {
    const final = await ask({ method: 'INVITE', requestUri: uri(), maxForwards: 0 });
    expect(final?.status).toBe(483);
    expect(final?.headers['x-reject-reason']).toEqual(['too_many_hops']);
  });

  it('Max-Forwards 0 on an OPTIONS -> 200: the edge answers it itself (RFC 3261 11, 16.3)', async () => {
    const final = await ask({ method: 'OPTIONS', requestUri: uri(), maxForwards: 0 });
    expect(final?.status).toBe(200);
    expect(final?.headers.allow?.[0]).toMatch(/INVITE/);
  });

  it('an unknown option tag in Require -> 420 Bad Extension naming it in Unsupported', async () => {
    const final = await ask({ method: 'INVITE', requestUri: uri(), headers: [['Require', 'x-no-such-extension']] });
    expect(final?.status).toBe(420);
    expect(final?.headers['x-reject-reason']).toEqual(['bad_extension']);
    expect(final?.headers.unsupported).toEqual(['x-no-such-extension']);
  });

  it('a Require of 500 option tags -> 420 naming at most 8 of them', async () => {
    const tags = Array.from({ length: 500 }, (_, i) => `tag${i}`).join(', ');
    const final = await ask({ method: 'INVITE', requestUri: uri(), headers: [['Require', tags]] });
    expect(final?.status).toBe(420);
    expect(final?.headers.unsupported?.[0]?.split(', ')).toEqual(['tag0', 'tag1', 'tag2', 'tag3', 'tag4', 'tag5', 'tag6', 'tag7']);
  });

  it.each(['mailto:ops@example.com', 'http://example.com/call', 'im:agent@example.com', 'urn:service:sos'])(
    'Request-URI %s -> 416 Unsupported URI Scheme',
    async (requestUri) => {
      const final = await ask({ method: 'INVITE', requestUri, to: `<sip:${number}@127.0.0.1>` });
      expect(final?.status).toBe(416);
      expect(final?.headers['x-reject-reason']).toEqual(['unsupported_uri_scheme']);
    },
  );

  // Torture messages: valid, if unusual, SIP. Each must be read to the end (404 for the unknown number).
  it.each<[string, (via: string, callId: string) => string]>([
    ['compact header names', (via, id) => unknownNumber(via, id).replace('Via:', 'v:').replace('From:', 'f:').replace('To:', 't:').replace('Call-ID:', 'i:').replace('Contact:', 'm:').replace('Content-Length:', 'l:')],
    ['header names in odd case', (via, id) => unknownNumber(via, id).replace('Call-ID:', 'cALL-iD:').replace('CSeq:', 'cseq:').replace('Max-Forwards:', 'MAX-FORWARDS:')],
    ['folded header lines and whitespace around the colon', (via, id) => unknownNumber(via, id, [['Subject', 'one\r\n  two\r\n\tthree']]).replace('To:', 'To   :  ')],
    ['an 8 KB header value', (via, id) => unknownNumber(via, id, [['X-Padding', 'p'.repeat(8000)]])],
    ['a display name with escaped quotes and backslashes', (via, id) => unknownNumber(via, id).replace('From: ', 'From: "J \\"Bob\\" \\\\ Doe" ')],
    ['an unknown URI scheme in To', (via, id) => unknownNumber(via, id).replace(/To: <[^>]*>/, 'To: <urn:service:sos>')],
    ['Request-URI parameters, one escaped', (via, id) => unknownNumber(via, id).replace('INVITE sip:+15559990000@127.0.0.1 ', 'INVITE sip:+15559990000@127.0.0.1;transport=udp;x-odd=%41 ')],
    ['an empty header value', (via, id) => unknownNumber(via, id, [['Subject', '']])],
    ['two Via headers', (via, id) => unknownNumber(via, id).replace('Via:', 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtorture1\r\nVia:')],
    ['a tab between method and Request-URI', (via, id) => unknownNumber(via, id).replace('INVITE sip:', 'INVITE\tsip:')],
  ])('odd but valid: %s -> read to the end (404 number_not_found)', async (_name, make) => {
    const final = await ask(make);
    expect(final?.status).toBe(404);
    expect(final?.headers['x-reject-reason']).toEqual(['number_not_found']);
  });

  // Broken messages: each gets 400, from drachtio-server or (for what only drachtio-srf cannot read) the edge.
  it.each<[string, (via: string, callId: string) => string, string | null]>([
    ['two spaces after the method', (via, id) => unknownNumber(via, id).replace('INVITE sip:', 'INVITE  sip:'), 'message_unparseable'],
    ['bare LF line endings', (via, id) => unknownNumber(via, id).replace(/\r\n/g, '\n'), 'message_unparseable'],
    ['a header line without a colon', (via, id) => unknownNumber(via, id, [['X-Broken', 'x']]).replace('X-Broken: x', 'X-Broken x'), null],
    ['a Max-Forwards that is no number', (via, id) => buildRequest({ method: 'INVITE', requestUri: 'sip:+15559990000@127.0.0.1', via, callId: id, maxForwards: 'seventy' }), null],
    ['a CSeq method other than the request method', (via, id) => unknownNumber(via, id).replace('CSeq: 1 INVITE', 'CSeq: 1 OPTIONS'), null],
    ['a Content-Length longer than the datagram', (via, id) => unknownNumber(via, id).replace('Content-Length: 0', 'Content-Length: 900'), null],
  ])('broken: %s -> 400', async (_name, make, reason) => {
    const final = await ask(make);
    expect(final?.status).toBe(400);
    if (reason) expect(final?.headers['x-reject-reason']).toEqual([reason]);
  });

  it('an unknown SIP version -> 505 (drachtio-server)', async () => {
    const final = await ask((via, id) => unknownNumber(via, id).replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'));
    expect(final?.status).toBe(505);
  });
});
