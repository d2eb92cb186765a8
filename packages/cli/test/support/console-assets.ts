import { execFile } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import * as path from 'node:path';

const BUILD_SCRIPT = path.resolve(__dirname, '../../../ui/build.mjs');
let built: Promise<void> | undefined;

/**
 * Bundles the console's page (ui/build.mjs, as `npm run build` does) once per test run, so the tests
 * serve the page of the sources they were compiled with even after a bare `tsc -b`.
 */
export function buildConsoleAssets(): Promise<void> {
  built ??= new Promise((resolve, reject) => {
    execFile(process.execPath, [BUILD_SCRIPT], { timeout: 60_000 }, (error, _stdout, stderr) => (error ? reject(new Error(`ui/build.mjs failed: ${stderr || error.message}`)) : resolve()));
  });
  return built;
}

/** A port nothing listens on: one the system just handed out and took back. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    }).on('error', reject);
  });
}
