import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`, done by .ci/run); CHROMIUM_PATH overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the browser tests write their screenshots (git-ignored). */
export const SCREENSHOTS = path.resolve(__dirname, '../../../../../test-output/console');

/**
 * Flags for a headless Chromium on a closed network: without the background-networking ones it
 * tries to reach Google's services at start and its own connections are refused.
 */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Whether a missing browser must fail the tests (CI) rather than skip them (a laptop without chromium). */
export function browserRequired(): boolean {
  return process.env.CI === 'true' || process.env.WARREN_REQUIRE_BROWSER === '1';
}

export interface Browser { context: BrowserContext; close(): Promise<void> }

/** Starts headless Chromium with a fresh profile; undefined when there is none and none is required. */
export async function launchBrowser(): Promise<Browser | undefined> {
  if (!existsSync(CHROMIUM)) {
    if (browserRequired()) throw new Error(`Chromium is required (CI=true) but ${CHROMIUM} does not exist: apt-get install -y chromium`);
    return undefined;
  }
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(tmpdir(), 'warren-ui-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 }, timeout: 60_000 });
  context.setDefaultTimeout(20_000);
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  return path.join(SCREENSHOTS, `${name}.png`);
}
