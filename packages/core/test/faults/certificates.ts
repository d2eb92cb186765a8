import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Files and PEM texts of a throw-away PKI for the TLS tests, made with the openssl CLI. */
export interface TestPki {
  dir: string;
  /** The CA that signed the broker's certificate. */
  caFile: string;
  ca: Buffer;
  /** A CA that signed nothing the broker presents. */
  strangerCa: Buffer;
  /** The broker's certificate: `CN=localhost`, subjectAltName `DNS:localhost` only (so 127.0.0.1 is "another host"). */
  serverCertFile: string;
  serverKeyFile: string;
}

/** Makes a CA, a second unrelated CA, and a server certificate for `localhost` signed by the first. EC keys: fast to generate. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'warren-pki-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'stranger-ca']) {
    openssl('req', '-x509', ...ecKey, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.crt`), '-days', '2', '-subj', `/CN=Warren test ${ca}`);
  }
  openssl('req', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('server.ext'), 'subjectAltName = DNS:localhost\nextendedKeyUsage = serverAuth\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext'));
  return {
    dir,
    caFile: file('ca.crt'),
    ca: readFileSync(file('ca.crt')),
    strangerCa: readFileSync(file('stranger-ca.crt')),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
  };
}
