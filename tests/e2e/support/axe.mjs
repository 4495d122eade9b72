// axe-core (npm `axe-core`, Deque's accessibility engine) run inside a page, as issue 29 asks: the page's own DOM,
// Carbon's open shadow roots included (axe descends into open shadow DOM by default).
import { createRequire } from 'node:module';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const BLOCKING = ['serious', 'critical'];

/** The serious and critical violations on `page` now, each as `rule (impact): targets`. */
export async function blockingViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 5) })));
  return violations.filter((v) => BLOCKING.includes(v.impact)).map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`);
}

/** What Carbon's live region (AriaAnnouncerComponent.tsx: three `aria-live="polite"` divs) has announced so far. */
export async function announced(page) {
  return page.locator('.cds-aichat--aria-announcer [aria-live="polite"]').allTextContents().then((t) => t.join(' '));
}
