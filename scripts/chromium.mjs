// Debian's Chromium, as the browser tests and the bench drive it with
// playwright-core: where it is (installed by scripts/setup.mjs), and one
// launch with the flags this machine needs (no sandbox as root; no
// background networking, whose connections the closed network refuses).
export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium (playwright-core's `Browser`). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}
