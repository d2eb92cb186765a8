import { execFile } from 'node:child_process';
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
