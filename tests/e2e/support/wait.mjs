// Waiting helpers: playwright-core has no `expect`, so assertions that must wait for the UI poll with a deadline and
// fail with a message that says what a person would have expected to see.

/** Polls `check` (may be async; truthy = done) until it passes or `timeout` ms pass; resolves to its value. */
export async function waitUntil(check, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${lastError ? ` (last error: ${lastError.message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Screen-reader-only copies (Carbon's aria-live announcer repeats status texts in a 1px box) are not what a
// sighted person sees: only matches with a real box count.
export async function firstShown(locator) {
  const n = await locator.count();
  for (let i = 0; i < n; i++) {
    const item = locator.nth(i);
    const box = await item.boundingBox().catch(() => null);
    if (box && box.width > 2 && box.height > 2 && (await item.isVisible())) return item;
  }
  return null;
}

/** Waits until a match of `locator` is shown on screen; resolves to it. The error names what was expected. */
export async function seen(locator, what, timeout = 15_000) {
  return waitUntil(() => firstShown(locator), { timeout, message: `${what} to be shown` });
}

/** Asserts no match is shown during `ms` (for things that must not happen). */
export async function notSeen(locator, what, ms = 1_000) {
  const deadline = Date.now() + ms;
  do {
    if (await firstShown(locator)) throw new Error(`did not expect to see ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  } while (Date.now() < deadline);
}

/** Asserts the visible elements, found in order, sit top to bottom on screen (boxes of one scroll container). */
export async function inVisualOrder(locators, what) {
  const ys = [];
  for (const [i, l] of locators.entries()) {
    const box = await l.boundingBox();
    if (!box) throw new Error(`${what}: item ${i} is not on the page`);
    ys.push(box.y);
  }
  for (let i = 1; i < ys.length; i++) {
    if (!(ys[i] > ys[i - 1])) throw new Error(`${what}: item ${i} is shown above item ${i - 1} (y ${ys[i]} <= ${ys[i - 1]})`);
  }
}
