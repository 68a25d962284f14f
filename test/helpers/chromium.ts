import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe } from 'vitest';
import { findExecutable } from './localProcess.js';

/** Debian's Chromium (apt-get install chromium; scripts/ensure-deps.sh does): $CHROMIUM_BIN, else chromium on PATH. */
export const CHROMIUM_BIN = findExecutable(process.env.CHROMIUM_BIN ?? 'chromium');

if (!CHROMIUM_BIN) process.stderr.write("\n*** BROWSER TESTS SKIPPED: 'chromium' not found on PATH (apt-get install chromium; scripts/ensure-deps.sh does) ***\n\n");

/** `describe` when Chromium is installed, else `describe.skip` (with one loud line on stderr). */
export const describeChromium = describe.skipIf(!CHROMIUM_BIN);

/**
 * Flags of a headless Chromium on a machine without a network: no background traffic (it would
 * be refused, many connections at a time), fake camera/microphone granted without a prompt, and
 * WebRTC allowed to use loopback addresses.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

/** The Chromium flag that trusts one self-signed certificate (by its public key) and nothing else. */
export function trustCertificateFlag(certPath: string): string {
  const spki = new X509Certificate(readFileSync(certPath)).publicKey.export({ type: 'spki', format: 'der' });
  return `--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`;
}
