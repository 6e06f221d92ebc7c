// PMM serves HTTPS with a self-signed certificate until its operator installs one. cnvm does not switch
// verification off for it: the first contact reads the certificate (no request, no credential is sent on that
// connection), the caller keeps it, and every later connection trusts exactly that certificate — the chain is
// verified against it as the only CA and its SHA-256 fingerprint must match. A different certificate is refused.
import { connect, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { CnvmError } from '../../errors.js';

export interface CertPin {
  /** Colon-separated upper-case hex, as node and openssl print it. */
  fingerprint256: string;
  pem: string;
}

/** PMM's endpoint does not answer at all (connection refused, reset, timeout). */
export class PmmUnreachableError extends CnvmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('provider', message, options);
  }
}

/** The server presents another certificate than the one pinned on first use. */
export class CertificateMismatchError extends CnvmError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** `AB:CD:…` from any spelling a user may paste (`sha256 Fingerprint=ab:cd…`, `abcd…`). */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text.replace(/^.*=/, '').replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (hex.length !== 64) return undefined;
  return hex.match(/../g)?.join(':');
}

function pemOf(cert: PeerCertificate): string {
  const b64 = cert.raw.toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** The certificate the server presents, read without trusting it and without sending anything over the connection. */
export function presentedCertificate(host: string, port: number, timeoutMs = 10_000): Promise<CertPin> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }), timeout: timeoutMs });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      if (!cert?.raw) return reject(new PmmUnreachableError(`https://${host}:${port}/ presented no certificate`));
      resolve({ fingerprint256: cert.fingerprint256, pem: pemOf(cert) });
    });
    socket.once('timeout', () => socket.destroy(new Error(`no TLS answer within ${timeoutMs / 1000} s`)));
    socket.once('error', (err) => reject(new PmmUnreachableError(`PMM at https://${host}:${port}/ does not answer: ${err.message}`, { cause: err })));
  });
}

/** TLS options that trust the pinned certificate and nothing else (the host name is not what is checked: the key is). */
export function pinnedTlsOptions(pin: CertPin): { ca: string; checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined } {
  return {
    ca: pin.pem,
    checkServerIdentity: (_host, cert) => (cert.fingerprint256 === pin.fingerprint256 ? undefined : new Error(`certificate SHA-256 ${cert.fingerprint256} is not the pinned ${pin.fingerprint256}`)),
  };
}

/** Whether a certificate's own fingerprint is the one claimed (a pin file edited by hand must still agree with itself). */
export function pinIsConsistent(pin: CertPin): boolean {
  try {
    return new X509Certificate(pin.pem).fingerprint256 === pin.fingerprint256;
  } catch {
    return false;
  }
}
