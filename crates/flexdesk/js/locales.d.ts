import type { FlexdeskStringKey } from './index';

/** The languages shipped, as BCP 47 tags: en, de, es, fr, it, nl, pt-BR, ja. */
export const LANGUAGES: readonly string[];
/** The desk's texts per shipped language (English is the default in the desk itself). A value may be by plural category. */
export const DESK: Record<string, Partial<Record<FlexdeskStringKey, string | { one?: string; other: string }>>>;
/** Carbon AI Chat's own hand-off texts (`agent_*` keys of its language pack, ICU MessageFormat) per shipped language. */
export const CARBON: Record<string, Record<string, string>>;
/** The shipped language for a BCP 47 tag (`de-AT` → `de`, `pt` → `pt-BR`), or null. */
export function resolveLocale(tag: string): string | null;
/** Carbon's hand-off texts in `locale`, for the web chat's `strings` (empty for English or an unknown tag). */
export function carbonStrings(locale: string | undefined): Record<string, string>;
/** The desk's texts for `locale` over `english`, with a `fill` that writes numbers and plural forms the locale's way (the wrapper calls it). */
export function textsFor(locale: string, english: Record<string, string>): { table: Record<string, unknown>; fill?: (text: unknown, params: Record<string, string>) => string };
