// A bounded list kept in Web Storage, shared by flexdesk/transcript and flexdesk/history (both optional modules of
// the package, outside the desk's size budget). Session storage is small (about 5 MB per origin, shared with the web
// chat's own state), so the list keeps the newest items only, and a full or refused storage never loses what is in
// memory.

/**
 * `storedList({ storage, key, maxItems, maxChars, valid })` → `{ items, save(), clear() }`:
 * - `items`: the array loaded from `storage[key]` (only the entries `valid(entry)` accepts; a corrupt or foreign value
 *   is ignored), to push to or replace in place before `save()`;
 * - `save()`: drops the oldest items past `maxItems`, then a tenth at a time past `maxChars` characters of JSON, and
 *   writes; when storage is full or refused, keeps the newer half (written if it fits, in memory at least);
 * - `clear()`: empties the list, in storage too.
 * `storage` `null` keeps the list in memory only.
 */
export function storedList({ storage, key, maxItems, maxChars, valid }) {
  const items = load();

  function load() {
    try {
      const saved = JSON.parse(storage?.getItem(key) ?? '[]');
      return Array.isArray(saved) ? saved.filter((e) => e && typeof e === 'object' && valid(e)) : [];
    } catch {
      return [];
    }
  }

  function save() {
    if (items.length > maxItems) items.splice(0, items.length - maxItems);
    let json = JSON.stringify(items);
    while (json.length > maxChars && items.length > 1) {
      items.splice(0, Math.ceil(items.length / 10));
      json = JSON.stringify(items);
    }
    try {
      storage?.setItem(key, json);
    } catch {
      items.splice(0, Math.ceil(items.length / 2));
      try {
        storage?.setItem(key, JSON.stringify(items));
      } catch {
        /* in memory only */
      }
    }
  }

  function clear() {
    items.length = 0;
    try {
      storage?.removeItem(key);
    } catch {
      /* nothing kept */
    }
  }

  return { items, save, clear };
}
