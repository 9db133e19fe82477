/**
 * Message normalisation: turns log lines that differ only in ids, numbers and times into one
 * pattern (`user <n> not found in <uuid>`), so error messages can be grouped without a keyword
 * field in the index.
 */

const RULES: readonly (readonly [RegExp, string])[] = [
  // ISO-8601 / RFC 3339 timestamps and common `2024-01-02 03:04:05,123` forms.
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<ts>'],
  [/\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b/g, '<uuid>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g, '<ip>'],
  [/\b0x[0-9a-fA-F]+\b/g, '<hex>'],
  // Hex runs of 8+ chars that contain at least one digit (ids, hashes, trace ids).
  [/\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b/g, '<hex>'],
  [/(?<![A-Za-z0-9_.])[-+]?\d+(?:\.\d+)?/g, '<n>'],
];

/** Max length of a normalised pattern. */
export const MAX_PATTERN_LEN = 200;

/** Normalises a log message: timestamps, uuids, IPs, hex ids and numbers replaced; whitespace collapsed. */
export function normalizeMessage(msg: string): string {
  let s = msg.length > 4096 ? msg.slice(0, 4096) : msg;
  for (const [re, rep] of RULES) s = s.replace(re, rep);
  s = s.replace(/\s+/g, ' ').trim();
  return s.length > MAX_PATTERN_LEN ? s.slice(0, MAX_PATTERN_LEN) + '…' : s;
}

/** Groups messages by normalised pattern; the `top` most frequent, ties by first appearance. */
export function topPatterns(messages: Iterable<string>, top: number): { message: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const m of messages) {
    const p = normalizeMessage(m);
    if (p === '') continue;
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([message, count], i) => ({ message, count, i }))
    .sort((a, b) => b.count - a.count || a.i - b.i)
    .slice(0, top)
    .map(({ message, count }) => ({ message, count }));
}
