/**
 * Helpers for the Prometheus text exposition format 0.0.4: float formatting as Go's
 * `strconv.FormatFloat(f, 'g', -1, 64)` (what Prometheus's `expfmt` writes), label-value and
 * HELP escaping, and name validation.
 */

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** True when `name` is a valid metric name in the 0.0.4 text format. */
export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

/** True when `name` is a valid label name in the 0.0.4 text format (`__` prefixes included). */
export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

/**
 * Formats a float like Go's `FormatFloat(f, 'g', -1, 64)`: the shortest digits that round-trip,
 * in `%e` form (two-digit exponent at least) when the decimal exponent is < -4 or ≥ 6 — Go uses
 * precision 6 for that decision in shortest mode — else in `%f` form. Specials: `NaN`, `+Inf`,
 * `-Inf`, and `-0`. Examples: 1234567 → `1.234567e+06`, 100000 → `100000`, 0.0001 → `0.0001`,
 * 0.00001 → `1e-05`.
 */
export function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const neg = v < 0;
  const [mant, expStr] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  let out: string;
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp);
    out = `${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
  } else if (exp >= 0) {
    const intLen = exp + 1;
    out = digits.length <= intLen ? digits + '0'.repeat(intLen - digits.length) : `${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
  } else {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? `-${out}` : out;
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : v;
}

/** Escapes HELP text: backslash and newline. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}
