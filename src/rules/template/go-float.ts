/**
 * Float formatting with Go's `strconv.FormatFloat` semantics for the `e`, `f` and `g` formats:
 * shortest round-trip digits when precision is -1, otherwise exact decimal expansion rounded
 * half-to-even (Go rounds the exact binary value, unlike `Number#toFixed` on ties).
 */

/** Decimal digits `d` (no leading/trailing zeros) with the decimal point at `dp`: 0.d × 10^dp. */
interface Decimal {
  digits: string;
  dp: number;
}

const view = new DataView(new ArrayBuffer(8));

/** Exact decimal expansion of a finite, non-negative double. */
function exactDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp: number;
  if (biased === 0) exp = -1074;
  else {
    mant |= 1n << 52n;
    exp = biased - 1075;
  }
  let digits: string;
  let dp: number;
  if (exp >= 0) {
    digits = (mant << BigInt(exp)).toString();
    dp = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-exp)).toString();
    dp = digits.length + exp;
  }
  return trim({ digits, dp });
}

function trim(d: Decimal): Decimal {
  let s = d.digits;
  let dp = d.dp;
  let i = 0;
  while (i < s.length && s[i] === '0') i++;
  s = s.slice(i);
  dp -= i;
  let j = s.length;
  while (j > 0 && s[j - 1] === '0') j--;
  s = s.slice(0, j);
  if (s === '') dp = 0;
  return { digits: s, dp };
}

/** Shortest digits that round-trip (what JavaScript and Go both print). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { digits: '', dp: 0 };
  const [m, e] = x.toExponential().split('e') as [string, string];
  return trim({ digits: m.replace('.', ''), dp: Number(e) + 1 });
}

/** Rounds `d` to `nd` digits, half to even (exact, since `d` is the exact value). */
function round(d: Decimal, nd: number): Decimal {
  if (nd >= d.digits.length) return d;
  if (nd < 0) return { digits: '', dp: 0 };
  const next = d.digits.charCodeAt(nd) - 48;
  let up: boolean;
  if (next > 5) up = true;
  else if (next < 5) up = false;
  else if (nd + 1 < d.digits.length) up = true; // more non-zero digits follow (trimmed)
  else up = nd > 0 && (d.digits.charCodeAt(nd - 1) - 48) % 2 === 1;
  if (!up) return trim({ digits: d.digits.slice(0, nd), dp: d.dp });
  const arr = d.digits.slice(0, nd).split('');
  let i = nd - 1;
  while (i >= 0 && arr[i] === '9') {
    arr[i] = '0';
    i--;
  }
  if (i < 0) return { digits: '1', dp: d.dp + 1 };
  arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
  return trim({ digits: arr.join(''), dp: d.dp });
}

function digitAt(d: Decimal, i: number): string {
  return i >= 0 && i < d.digits.length ? d.digits[i]! : '0';
}

function fmtE(d: Decimal, prec: number, upper: boolean): string {
  let s = d.digits === '' ? '0' : d.digits[0]!;
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, i);
  }
  const exp = d.digits === '' ? 0 : d.dp - 1;
  const ae = Math.abs(exp);
  return s + (upper ? 'E' : 'e') + (exp < 0 ? '-' : '+') + (ae < 10 ? '0' : '') + String(ae);
}

function fmtF(d: Decimal, prec: number): string {
  let s = '';
  if (d.dp > 0) {
    for (let i = 0; i < d.dp; i++) s += digitAt(d, i);
  } else s = '0';
  if (prec > 0) {
    s += '.';
    for (let i = 1; i <= prec; i++) s += digitAt(d, d.dp + i - 1);
  }
  return s;
}

/**
 * Go's strconv.FormatFloat(x, fmt, prec, 64) for fmt in e, E, f, F, g, G; prec -1 = shortest.
 * Infinities print as `+Inf`/`-Inf`, NaN as `NaN`.
 */
export function formatFloat(x: number, fmt: 'e' | 'E' | 'f' | 'F' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  const shortest = prec < 0;
  let d: Decimal;
  const lower = fmt.toLowerCase();
  if (shortest) d = shortestDecimal(ax);
  else {
    const exact = exactDecimal(ax);
    if (lower === 'e') d = round(exact, prec + 1);
    else if (lower === 'f') d = round(exact, exact.dp + prec);
    else d = round(exact, prec === 0 ? 1 : prec);
  }
  let body: string;
  if (lower === 'e') body = fmtE(d, shortest ? Math.max(d.digits.length - 1, 0) : prec, fmt === 'E');
  else if (lower === 'f') body = fmtF(d, shortest ? Math.max(d.digits.length - d.dp, 0) : prec);
  else {
    let p = shortest ? d.digits.length : prec === 0 ? 1 : prec;
    let eprec = p;
    if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length;
    if (shortest) eprec = 6;
    const exp = d.dp - 1;
    if (d.digits !== '' && (exp < -4 || exp >= eprec)) {
      if (p > d.digits.length) p = d.digits.length;
      body = fmtE(d, Math.max(p - 1, 0), fmt === 'G');
    } else {
      if (p > d.dp) p = d.digits.length;
      body = fmtF(d, Math.max(p - d.dp, 0));
    }
  }
  return (neg ? '-' : '') + body;
}
