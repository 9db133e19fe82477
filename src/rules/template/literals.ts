/**
 * Go literal handling: `strconv.Unquote`, `strconv.ParseFloat` and the number-literal rules of
 * `text/template/parse`.
 */

/** Error raised by literal parsing; the message is Go's (e.g. `invalid syntax`). */
export class LiteralError extends Error {
  override name = 'LiteralError';
}

const MAX_INT64 = (1n << 63n) - 1n;
const MIN_INT64 = -(1n << 63n);
const MAX_UINT64 = (1n << 64n) - 1n;

/** Go's strconv underscoreOK: underscores only between digits (a base prefix counts as digit). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s[0] === '-' || s[0] === '+') s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'bBoOxX'.includes(s[1]!)) {
    i = 2;
    saw = '0';
    hex = s[1] === 'x' || s[1] === 'X';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** Go's strconv.ParseInt(s, 0, 64)-like parse without the range check; undefined if invalid. */
function parseIntBase0(text: string): bigint | undefined {
  let s = text;
  if (s.includes('_')) {
    if (!underscoreOK(s)) return undefined;
    s = s.replaceAll('_', '');
  }
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let re = /^[0-9]+$/;
  let prefix = '';
  if (/^0[xX]/.test(s)) {
    prefix = '0x';
    s = s.slice(2);
    re = /^[0-9a-fA-F]+$/;
  } else if (/^0[oO]/.test(s)) {
    prefix = '0o';
    s = s.slice(2);
    re = /^[0-7]+$/;
  } else if (/^0[bB]/.test(s)) {
    prefix = '0b';
    s = s.slice(2);
    re = /^[01]+$/;
  } else if (s.length > 1 && s[0] === '0') {
    prefix = '0o';
    s = s.slice(1);
    re = /^[0-7]+$/;
  }
  if (!re.test(s)) return undefined;
  const v = BigInt(prefix + s);
  return neg ? -v : v;
}

/**
 * Go's strconv.ParseFloat(s, 64): decimal and hex floats, underscores per Go syntax,
 * `inf`/`infinity`/`nan` in any case with optional sign. Throws LiteralError with Go's
 * `strconv.ParseFloat: parsing "s": invalid syntax` / `value out of range` message.
 */
export function parseGoFloat(s: string): number {
  const fail = (why: string): never => {
    throw new LiteralError(`strconv.ParseFloat: parsing ${JSON.stringify(s)}: ${why}`);
  };
  let t = s;
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    sign = t[0] === '-' ? -1 : 1;
    t = t.slice(1);
  }
  const lower = t.toLowerCase();
  if (lower === 'inf' || lower === 'infinity') return sign * Infinity;
  if (lower === 'nan') return NaN;
  if (t.includes('_')) {
    if (!underscoreOK(s)) fail('invalid syntax');
    t = t.replaceAll('_', '');
  }
  let v: number;
  if (/^0[xX]/.test(t)) {
    const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/.exec(t);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return fail('invalid syntax');
    const intPart = m[1] ?? '';
    const frac = m[2] ?? '';
    const mant = BigInt('0x' + ((intPart + frac) || '0'));
    const exp = Number(m[3]) - 4 * frac.length;
    v = Number(mant) * Math.pow(2, exp);
    if (!Number.isFinite(v) && mant !== 0n) return fail('value out of range');
  } else {
    if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) return fail('invalid syntax');
    v = Number(t);
    if (!Number.isFinite(v)) return fail('value out of range');
  }
  return sign * v;
}

/** A parsed number literal (see {@link parseNumberLiteral}). */
export interface NumberLiteral {
  readonly int?: bigint;
  readonly uint?: bigint;
  readonly float?: number;
  readonly floatLiteral: boolean;
}

/** Parses a template number token like Go's parse.newNumber; throws LiteralError. */
export function parseNumberLiteral(text: string, isChar: boolean): NumberLiteral {
  if (isChar) {
    const { value, tail } = unquoteChar(text.slice(1), "'");
    if (tail !== "'") throw new LiteralError(`malformed character constant: ${text}`);
    const cp = BigInt(value.codePointAt(0) ?? 0);
    return { int: cp, uint: cp, float: Number(cp), floatLiteral: false };
  }
  if (text.endsWith('i')) throw new LiteralError(`complex numbers are not supported: ${JSON.stringify(text)}`);
  let int: bigint | undefined;
  let uint: bigint | undefined;
  let float: number | undefined;
  const i = parseIntBase0(text);
  if (i !== undefined) {
    if (i >= MIN_INT64 && i <= MAX_INT64) int = i;
    if (i >= 0n && i <= MAX_UINT64 && !text.startsWith('-')) uint = i;
    if (i === 0n) uint = 0n;
  }
  if (int !== undefined) float = Number(int);
  else if (uint !== undefined) float = Number(uint);
  else {
    let f: number | undefined;
    try {
      f = parseGoFloat(text);
    } catch {
      f = undefined;
    }
    if (f !== undefined && !Number.isNaN(f) && Number.isFinite(f)) {
      if (!/[.eEpP]/.test(text)) throw new LiteralError(`integer overflow: ${JSON.stringify(text)}`);
      float = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) int = BigInt(f);
    }
  }
  if (int === undefined && uint === undefined && float === undefined) {
    throw new LiteralError(`illegal number syntax: ${JSON.stringify(text)}`);
  }
  const isHexInt = /^[+-]?0[xX]/.test(text) && !/[pP]/.test(text);
  const floatLiteral = float !== undefined && !isHexInt && /[.eEpP]/.test(text);
  return { int, uint, float, floatLiteral };
}

function hexVal(s: string): number {
  return /^[0-9a-fA-F]+$/.test(s) ? parseInt(s, 16) : NaN;
}

/**
 * Go's strconv.UnquoteChar: decodes one (possibly escaped) character from `s`.
 * Byte escapes (`\x`, octal) yield the byte value as a code point marked in `byte`.
 */
export function unquoteChar(s: string, quote: string): { value: string; byte?: number; tail: string } {
  const c = s.codePointAt(0);
  if (c === undefined) throw new LiteralError('invalid syntax');
  const ch = String.fromCodePoint(c);
  if (ch === quote && (quote === "'" || quote === '"')) throw new LiteralError('invalid syntax');
  if (ch !== '\\') return { value: ch, tail: s.slice(ch.length) };
  const e = s[1];
  const rest = s.slice(2);
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };
  if (e !== undefined && simple[e] !== undefined) return { value: simple[e]!, tail: rest };
  switch (e) {
    case "'":
    case '"':
      if (e !== quote) throw new LiteralError('invalid syntax');
      return { value: e, tail: rest };
    case 'x': {
      const v = hexVal(rest.slice(0, 2));
      if (Number.isNaN(v) || rest.length < 2) throw new LiteralError('invalid syntax');
      return { value: String.fromCharCode(v), byte: v, tail: rest.slice(2) };
    }
    case 'u':
    case 'U': {
      const n = e === 'u' ? 4 : 8;
      const v = hexVal(rest.slice(0, n));
      if (Number.isNaN(v) || rest.length < n || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new LiteralError('invalid syntax');
      return { value: String.fromCodePoint(v), tail: rest.slice(n) };
    }
    default: {
      if (e !== undefined && e >= '0' && e <= '7') {
        const oct = s.slice(1, 4);
        if (!/^[0-7]{3}$/.test(oct)) throw new LiteralError('invalid syntax');
        const v = parseInt(oct, 8);
        if (v > 255) throw new LiteralError('invalid syntax');
        return { value: String.fromCharCode(v), byte: v, tail: s.slice(4) };
      }
      throw new LiteralError('invalid syntax');
    }
  }
}

/** Go's strconv.Unquote for `"..."` and `` `...` `` literals; throws LiteralError. */
export function unquote(quoted: string): string {
  if (quoted.length < 2) throw new LiteralError('invalid syntax');
  const q = quoted[0];
  if (q !== quoted[quoted.length - 1]) throw new LiteralError('invalid syntax');
  const body = quoted.slice(1, -1);
  if (q === '`') {
    if (body.includes('`')) throw new LiteralError('invalid syntax');
    return body.replaceAll('\r', '');
  }
  if (q !== '"') throw new LiteralError('invalid syntax');
  if (body.includes('\n')) throw new LiteralError('invalid syntax');
  if (!body.includes('\\') && !body.includes('"')) return body;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  let s = body;
  while (s.length > 0) {
    const r = unquoteChar(s, '"');
    if (r.byte !== undefined) bytes.push(r.byte);
    else {
      flush();
      out += r.value;
    }
    s = r.tail;
  }
  flush();
  return out;
}
