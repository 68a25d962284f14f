import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  /** the body exactly as received (what the signature covers) */
  readonly raw: string;
  readonly json: any;
  readonly receivedAt: number;
  /** what the receiver answered */
  readonly status: number;
}

/**
 * An HTTP receiver of status callbacks on 127.0.0.1: records every POST and answers each with the
 * next status of `statuses` (200 once they run out), so a test can make deliveries fail.
 */
export async function startCallbackReceiver(statuses: number[] = []): Promise<{ url: string; received: ReceivedCallback[]; close(): Promise<void> }> {
  const received: ReceivedCallback[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(raw);
      } catch {
        // kept as raw
      }
      const status = statuses.shift() ?? 200;
      received.push({ path: req.url ?? '', headers: req.headers, raw, json, receivedAt: Date.now(), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
