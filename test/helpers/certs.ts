import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
  readonly dir: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** PEM text of the certificate (also usable as a CA for clients that verify). */
  readonly cert: string;
  readonly commonName: string;
}

export interface CertOptions {
  /** Directory to write cert.pem / key.pem into; a fresh temp dir by default. */
  readonly dir?: string;
  readonly commonName?: string;
  /** subjectAltName IP entries; 127.0.0.1 by default. */
  readonly ips?: readonly string[];
  readonly days?: number;
}

/**
 * A throwaway self-signed certificate made by the openssl CLI (EC P-256: fast to
 * generate). For drachtio-server the certificate doubles as its own chain-file.
 */
export function generateSelfSignedCert(options: CertOptions = {}): SelfSignedCert {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sip-edge-cert-'));
  const commonName = options.commonName ?? 'sip-edge-test';
  const ips = options.ips ?? ['127.0.0.1'];
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const san = ['DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-nodes',
        '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
        '-keyout', keyPath, '-out', certPath,
        '-days', String(options.days ?? 2),
        '-subj', `/CN=${commonName}`,
        '-addext', `subjectAltName=${san}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000 },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`openssl could not create a self-signed certificate: ${String(err)} ${stderr}`);
  }
  return { dir, certPath, keyPath, cert: readFileSync(certPath, 'utf8'), commonName };
}
