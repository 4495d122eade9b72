// axe-core (npm `axe-core`, Deque's accessibility engine) run inside a page, as issue 29 asks: the page's own DOM,
// Carbon's open shadow roots included (axe descends into open shadow DOM by default).
import { createRequire } from 'node:module';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
export const BLOCKING = ['serious', 'critical'];

/**
 * Carbon's own defect, not the page's: Carbon 1.9.1's "scroll to bottom" button (MessagesScrollToBottomButton.tsx)
 * passes its `aria-label` to the `ChatButton` element, whose inner `#button` in its shadow root gets no name, so axe
 * reports button-name (critical) whenever Carbon shows the button (the message list not at its end, e.g. as an
 * agent's message scrolls in). That one node is left out; any other button without a name still counts.
 */
const CARBONS_OWN = [{ rule: 'button-name', target: '.cds-aichat__scroll-to-bottom-button' }];

/** The serious and critical violations on `page` now, each as `rule (impact): targets`. */
export async function blockingViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)) })));
  return violations
    .map((v) => ({ ...v, targets: v.targets.filter((t) => !CARBONS_OWN.some((c) => c.rule === v.id && t.includes(c.target))).slice(0, 5) }))
    .filter((v) => BLOCKING.includes(v.impact) && v.targets.length)
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.targets.join(', ')}`);
}

/** What Carbon's live region (AriaAnnouncerComponent.tsx: three `aria-live="polite"` divs) has announced so far. */
export async function announced(page) {
  return page.locator('.cds-aichat--aria-announcer [aria-live="polite"]').allTextContents().then((t) => t.join(' '));
}
