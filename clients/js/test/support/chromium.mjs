// Debian's /usr/bin/chromium driven by playwright-core, shut off from everything but 127.0.0.1.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CI = process.env.CI === 'true';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && CI) {
  throw new Error(`${CHROMIUM} is missing; run-tests.sh installs it (apt-get install chromium).`);
}
/** For `test(name, { skip }, …)`: false, or why the browser tests cannot run here. */
export const skip = haveChromium ? false : `${CHROMIUM} is missing (set CI=true to make this a failure)`;

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  // nothing but the test server: any host name other than 127.0.0.1 fails to resolve
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Launches headless Chromium with its profile, downloads and traces in a temporary directory. */
export async function launchChromium() {
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'sessionsockets-chromium-'));
  let browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      timeout: 60_000,
      downloadsPath: tempDir,
      tracesDir: tempDir,
      env: { ...process.env, HOME: tempDir, XDG_CONFIG_HOME: tempDir, XDG_CACHE_HOME: tempDir },
    });
  } catch (error) {
    rmSync(tempDir, { recursive: true, force: true });
    throw error;
  }
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
