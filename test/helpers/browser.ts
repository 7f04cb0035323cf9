// Debian's Chromium, driven by playwright-core, for the page tests; and axe-core's accessibility check.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../../src/lib/paths.js';
import { chromiumPath } from './peers.js';

export async function launchChromium(t: { teardown(fn: () => unknown): void }): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  t.teardown(() => browser.close());
  return browser;
}

/** axe-core's WCAG 2.x A and AA rules on the page as it is: the violations, as "rule: where" lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return result.violations.flatMap((v) => v.nodes.map((node) => `${v.id}: ${node.target.join(' ')} (${v.help})`));
}

/** Screenshots for people to review, never committed: .scratch/screenshots/<name>-<width>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const folder = join(projectRoot, '.scratch', 'screenshots');
  mkdirSync(folder, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  await page.screenshot({ path: join(folder, `${name}-${width}.png`), fullPage: true });
}

/** What has the keyboard focus: "BUTTON Subscribe", "A Skip to the content", "INPUT email". */
export async function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string; id: string } | null } })
      .document.activeElement;
    return element ? `${element.tagName} ${element.tagName === 'INPUT' ? element.id : element.textContent.trim()}` : '';
  });
}

/** Presses Tab until a button with this text has the focus (at most 60 times). */
export async function tabToButton(page: Page, text: string): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if ((await focused(page)) === `BUTTON ${text}`) return true;
  }
  return false;
}

/** Presses Tab until the element with this id has the focus (at most 60 times); false if it never does. */
export async function tabTo(page: Page, id: string): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (
      await page.evaluate(
        (wanted) => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id === wanted,
        id,
      )
    )
      return true;
  }
  return false;
}
