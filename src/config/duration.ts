/**
 * Prometheus duration and byte-size strings. Durations: `1y2w3d4h5m6s7ms` with units in
 * that order, each at most once, `0` alone allowed; a year is 365 days. Results are integer ms.
 */

const UNITS: readonly (readonly [string, number])[] = [
  ['y', 365 * 24 * 3600_000],
  ['w', 7 * 24 * 3600_000],
  ['d', 24 * 3600_000],
  ['h', 3600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

/** Error for an unparsable duration or size. */
export class DurationError extends Error {
  override name = 'DurationError';
}

/**
 * Parses a Prometheus duration (`15s`, `1h30m`, `100ms`, `1d`, `1w`, `1y`, `0`) to ms.
 * Throws {@link DurationError} on anything else (including negative or overflowing values).
 */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  const m = s === '' ? null : DURATION_RE.exec(s);
  if (!m) throw new DurationError(`not a valid duration string: ${JSON.stringify(s)}`);
  let total = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) total += Number(g) * UNITS[i]![1];
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration out of range: ${JSON.stringify(s)}`);
  return total;
}

/** Formats ms as a Prometheus duration (`1h30m`, `0s`). Inverse of {@link parseDuration}. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.trunc(Math.abs(ms));
  let out = ms < 0 ? '-' : '';
  for (const [u, n] of UNITS) {
    // Prometheus prints weeks/years only when they divide exactly; keep days otherwise.
    if ((u === 'y' || u === 'w') && rest % n !== 0) continue;
    const q = Math.floor(rest / n);
    if (q > 0) {
      out += `${q}${u}`;
      rest -= q * n;
    }
  }
  return out;
}

const SIZE_RE = /^(\d+)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$/;
const SIZE_MULT: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/** Parses a byte size as Prometheus does (`10MB`, `512KiB`, `1024`; base 2) to bytes. */
export function parseByteSize(s: string): number {
  const m = SIZE_RE.exec(s.trim());
  if (!m) throw new DurationError(`not a valid byte size: ${JSON.stringify(s)} (expected e.g. 10MB, 512KiB)`);
  const n = Number(m[1]) * SIZE_MULT[m[2] ?? 'B']!;
  if (!Number.isSafeInteger(n)) throw new DurationError(`byte size out of range: ${JSON.stringify(s)}`);
  return n;
}
