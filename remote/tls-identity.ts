import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The daemon's TLS certificate for `serve --listen`: self-signed, pinned by laptops at pairing. */
export interface TlsIdentity {
  cert: string;
  key: string;
  /** 'SHA256:' + base64 (no padding) of sha256 over the certificate's DER: what a laptop pins. */
  fingerprint: string;
}

export function certFingerprint(der: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(der).digest('base64').replace(/=+$/, '');
}

/**
 * Loads `daemon/tls-cert.pem` + `daemon/tls-key.pem`, or makes them with the `openssl` CLI
 * on first start (P-256, 10 years). The key is written 0600 inside the 0700 daemon folder
 * and appears under its final name only when complete.
 */
export function loadOrCreateTlsIdentity(daemonDir: string): TlsIdentity {
  const certFile = path.join(daemonDir, 'tls-cert.pem');
  const keyFile = path.join(daemonDir, 'tls-key.pem');
  if (!fs.existsSync(certFile) || !fs.existsSync(keyFile)) create(certFile, keyFile);
  fs.chmodSync(keyFile, 0o600);
  const cert = fs.readFileSync(certFile, 'utf8');
  const key = fs.readFileSync(keyFile, 'utf8');
  return { cert, key, fingerprint: certFingerprint(new X509Certificate(cert).raw) };
}

function create(certFile: string, keyFile: string): void {
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const [tmpCert, tmpKey] = [`${certFile}.${tag}`, `${keyFile}.${tag}`];
  const oldMask = process.umask(0o077);
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=tether-daemon', '-keyout', tmpKey, '-out', tmpCert],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    fs.chmodSync(tmpKey, 0o600);
    fs.renameSync(tmpKey, keyFile);
    fs.renameSync(tmpCert, certFile);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the openssl command is not installed' : (err as Error).message.split('\n')[0];
    throw new Error(`cannot make the TLS certificate for --listen: ${why}`);
  } finally {
    process.umask(oldMask);
    fs.rmSync(tmpKey, { force: true });
    fs.rmSync(tmpCert, { force: true });
  }
}
