import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, freeLoopbackPort, terminate, track, waitUntil } from './localProcess.js';

export const BARESIP_BIN = findExecutable('baresip');
export const TCPDUMP_BIN = findExecutable('tcpdump');

export interface BaresipOptions {
  /** loopback address it listens and sends media from */
  readonly ip: string;
  readonly user: string;
  /** account parameters, e.g. ['answermode=auto', 'mediaenc=srtp-mand'] */
  readonly params?: readonly string[];
}

export interface Baresip {
  readonly ip: string;
  readonly sipPort: number;
  readonly uri: string;
  /** its RTP port range */
  readonly rtpMin: number;
  readonly rtpMax: number;
  /** sends a console command (`/dial sip:...`, `/hangup`) */
  command(line: string): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A real baresip (Debian 1.0) with audio from a sine source and no sound card, driven through its
 * UDP console (module cons), media in a port range of its own. See TESTBED.md.
 */
export async function startBaresip(options: BaresipOptions): Promise<Baresip> {
  if (!BARESIP_BIN) throw new Error('baresip not installed');
  const dir = mkdtempSync(join(tmpdir(), `sip-edge-baresip-${options.user}-`));
  const sipPort = await freeLoopbackPort({ host: options.ip });
  const consPort = await freeLoopbackPort({ host: options.ip, tcp: false });
  const rtpMin = 42000 + Math.floor(Math.random() * 400) * 20;
  const rtpMax = rtpMin + 19;
  writeFileSync(
    join(dir, 'config'),
    [
      'poll_method epoll',
      `sip_listen ${options.ip}:${sipPort}`,
      `net_interface ${options.ip}`,
      `rtp_ports ${rtpMin}-${rtpMax}`,
      'rtp_timeout 0',
      'audio_source ausine,440',
      'audio_player alsa,null',
      'audio_alert aubridge,nil',
      'ausrc_srate 48000',
      'ausrc_channels 2',
      'module_path /usr/lib/baresip/modules',
      ...['g711.so', 'ausine.so', 'alsa.so', 'aubridge.so', 'srtp.so', 'dtls_srtp.so', 'cons.so'].map((m) => `module ${m}`),
      `cons_listen ${options.ip}:${consPort}`,
      'module_tmp account.so',
      'module_app menu.so',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'accounts'), `<sip:${options.user}@${options.ip}>;regint=0;audio_codecs=PCMU/8000/1${(options.params ?? []).map((p) => `;${p}`).join('')}\n`);
  let out = '';
  const proc: ChildProcess = spawn(BARESIP_BIN, ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc);
  proc.stdout?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-50_000)));
  proc.stderr?.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-50_000)));
  await waitUntil(() => proc.exitCode !== null || /baresip is ready/i.test(out), { timeoutMs: 10_000, what: `baresip ${options.user} ready` });
  if (proc.exitCode !== null) throw new Error(`baresip exited: ${out.slice(-2000)}`);
  const socket = createSocket('udp4');
  return {
    ip: options.ip,
    sipPort,
    uri: `sip:${options.user}@${options.ip}:${sipPort}`,
    rtpMin,
    rtpMax,
    command: (line) =>
      new Promise<void>((resolve, reject) => socket.send(Buffer.from(`${line}\n`), consPort, options.ip, (err) => (err ? reject(err) : resolve()))),
    output: () => out,
    stop: async () => {
      socket.close();
      await terminate(proc, 'SIGTERM', 2000);
    },
  };
}

/** Counts UDP packets on loopback matching a tcpdump filter while it runs. */
export async function countPackets(filter: string): Promise<{ count: () => number; stop: () => Promise<number> }> {
  if (!TCPDUMP_BIN) throw new Error('tcpdump not installed');
  const proc = spawn(TCPDUMP_BIN, ['-i', 'lo', '-n', '-q', '-l', '-s', '64', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
  track(proc);
  let n = 0;
  let err = '';
  let buffered = '';
  proc.stdout?.on('data', (c: Buffer) => {
    buffered += c.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    n += lines.filter((l) => l.includes(' UDP')).length;
  });
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  await waitUntil(() => /listening on/.test(err) || proc.exitCode !== null, { timeoutMs: 5000, what: 'tcpdump listening' });
  if (proc.exitCode !== null) throw new Error(`tcpdump failed: ${err}`);
  return {
    count: () => n,
    stop: async () => {
      await terminate(proc, 'SIGINT', 2000);
      return n;
    },
  };
}
