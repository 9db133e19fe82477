/**
 * A subset of Go's `fmt` package over template values: `Sprint`, `Sprintln`, `Sprintf` with
 * verbs %v %+v %#v %T %s %q %d %b %o %O %x %X %c %U %e %E %f %F %g %G %t, flags `+ - # 0 space`,
 * width/precision (incl. `*`) and explicit argument indexes, and Go's error markers
 * (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA ...)`, `%!(NOVERB)`).
 */

import { formatFloat } from './go-float.js';
import { goQuote } from './lexer.js';
import { GoFunc, GoMap, GoSlice, GoStruct, typeName, type GoValue } from './values.js';

interface Flags {
  plus: boolean;
  minus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  wid?: number;
  prec?: number;
}

const NO_FLAGS: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false };
const MAX_WIDTH = 1e6;

function runeCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function pad(s: string, f: Flags, zeroOk = false): string {
  if (f.wid === undefined) return s;
  const n = f.wid - runeCount(s);
  if (n <= 0) return s;
  if (f.minus) return s + ' '.repeat(n);
  if (f.zero && zeroOk) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    return sign + '0'.repeat(n) + s.slice(sign.length);
  }
  return ' '.repeat(n) + s;
}

function signed(body: string, neg: boolean, f: Flags): string {
  if (neg) return '-' + body;
  if (f.plus) return '+' + body;
  if (f.space) return ' ' + body;
  return body;
}

function fmtFloatVerb(x: number, verb: string, f: Flags): string {
  let fmtc: 'e' | 'E' | 'f' | 'F' | 'g' | 'G';
  let prec = f.prec ?? -1;
  if (verb === 'v') fmtc = 'g';
  else {
    fmtc = verb as typeof fmtc;
    if ((verb === 'e' || verb === 'E' || verb === 'f' || verb === 'F') && f.prec === undefined) prec = 6;
  }
  if (fmtc === 'F') fmtc = 'f';
  let s = formatFloat(x, fmtc, prec);
  if (f.sharp && verb !== 'v' && !s.includes('.') && Number.isFinite(x)) {
    const e = s.search(/[eE]/);
    s = e < 0 ? s + '.' : s.slice(0, e) + '.' + s.slice(e);
  }
  const neg = s.startsWith('-');
  let body = neg || s.startsWith('+') ? s.slice(1) : s;
  if (Number.isNaN(x)) body = 'NaN';
  const out = signed(body, neg, { ...f, plus: f.plus || (x === Infinity && !f.space) });
  return pad(out, f, Number.isFinite(x));
}

function fmtInt(v: bigint, verb: string, f: Flags): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  let body: string;
  switch (verb) {
    case 'd':
    case 'v':
      body = a.toString(10);
      break;
    case 'b':
      body = a.toString(2);
      break;
    case 'o':
    case 'O':
      body = a.toString(8);
      break;
    case 'x':
      body = a.toString(16);
      break;
    case 'X':
      body = a.toString(16).toUpperCase();
      break;
    case 'c':
      return pad(a <= 0x10ffffn && !neg ? String.fromCodePoint(Number(a)) : '\ufffd', f);
    case 'q':
      return pad(a <= 0x10ffffn && !neg ? `'${goQuote(String.fromCodePoint(Number(a))).slice(1, -1).replace(/\\"/g, '"')}'` : "'\ufffd'", f);
    case 'U':
      return pad('U+' + a.toString(16).toUpperCase().padStart(4, '0'), f);
    default:
      return badVerb(verb, v);
  }
  if (f.prec !== undefined) {
    if (f.prec === 0 && a === 0n) body = '';
    else body = body.padStart(f.prec, '0');
  }
  if (verb === 'O') body = '0o' + body;
  else if (f.sharp) {
    if (verb === 'x') body = '0x' + body;
    else if (verb === 'X') body = '0X' + body;
    else if (verb === 'o' && !body.startsWith('0')) body = '0' + body;
    else if (verb === 'b') body = '0b' + body;
  }
  return pad(signed(body, neg, f), f, f.prec === undefined && !f.minus);
}

function hexString(s: string, f: Flags, upper: boolean): string {
  const bytes = Buffer.from(s, 'utf8');
  const parts: string[] = [];
  for (const b of bytes) {
    let h = b.toString(16).padStart(2, '0');
    if (upper) h = h.toUpperCase();
    parts.push(h);
  }
  if (f.space) return parts.map((p) => (f.sharp ? (upper ? '0X' : '0x') + p : p)).join(' ');
  return (f.sharp && parts.length > 0 ? (upper ? '0X' : '0x') : '') + parts.join('');
}

function fmtString(s: string, verb: string, f: Flags): string {
  if (f.prec !== undefined) s = Array.from(s).slice(0, f.prec).join('');
  switch (verb) {
    case 'v':
    case 's':
      return pad(s, f);
    case 'q':
      if (f.sharp && !/[`\x00-\x08\x0a-\x1f\x7f\ufeff]/.test(s)) return pad('`' + s + '`', f);
      return pad(f.plus ? goQuote(s).replace(/[^\x00-\x7f]/gu, (c) => unicodeEscape(c)) : goQuote(s), f);
    case 'x':
      return pad(hexString(s, f, false), f);
    case 'X':
      return pad(hexString(s, f, true), f);
    default:
      return badVerb(verb, s);
  }
}

function unicodeEscape(c: string): string {
  const cp = c.codePointAt(0)!;
  return cp > 0xffff ? '\\U' + cp.toString(16).padStart(8, '0') : '\\u' + cp.toString(16).padStart(4, '0');
}

function badVerb(verb: string, v: GoValue): string {
  if (v === undefined || v === null) return `%!${verb}(<nil>)`;
  return `%!${verb}(${typeName(v)}=${formatValue(v, 'v', NO_FLAGS, 1)})`;
}

function goSyntax(v: GoValue, depth: number): string {
  if (v === undefined || v === null) return depth === 0 ? '<nil>' : 'interface {}(nil)';
  if (typeof v === 'string') return goQuote(v);
  if (typeof v === 'number') return formatFloat(v, 'g', -1);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof GoSlice) return `${v.typeName}{${v.items.map((e) => goSyntax(e, depth + 1)).join(', ')}}`;
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return `${v.typeName}{${keys.map((k) => `${goQuote(k)}:${goSyntax(v.entries.get(k), depth + 1)}`).join(', ')}}`;
  }
  if (v instanceof GoStruct) {
    const body = [...v.fields].map(([k, e]) => `${k}:${goSyntax(e, depth + 1)}`).join(', ');
    return v.opts.pointer ? `&${v.typeName.replace(/^\*/, '')}{${body}}` : `${v.typeName}{${body}}`;
  }
  return `(${v.typeName})(0x0)`;
}

/** Formats one value for a verb (Go's printArg); `depth` > 0 inside composites. */
export function formatValue(v: GoValue, verb: string, f: Flags = NO_FLAGS, depth = 0): string {
  if (verb === 'T') return pad(typeName(v), f);
  if (v === undefined || v === null) return verb === 'v' ? pad('<nil>', f) : badVerb(verb, v);
  if (verb === 'v' && f.sharp) return goSyntax(v, depth);
  switch (typeof v) {
    case 'boolean':
      return verb === 't' || verb === 'v' ? pad(String(v), f) : badVerb(verb, v);
    case 'bigint':
      return fmtInt(v, verb, f);
    case 'number':
      return 'eEfFgGv'.includes(verb) ? fmtFloatVerb(v, verb, f) : badVerb(verb, v);
    case 'string':
      return fmtString(v, verb, f);
    default:
      break;
  }
  if (v instanceof GoStruct && v.opts.stringer && 'vsqxX'.includes(verb)) return fmtString(v.opts.stringer(), verb, f);
  if (v instanceof GoSlice) return '[' + v.items.map((e) => formatValue(e, verb, f, depth + 1)).join(' ') + ']';
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return 'map[' + keys.map((k) => `${formatValue(k, verb, f, depth + 1)}:${formatValue(v.entries.get(k), verb, f, depth + 1)}`).join(' ') + ']';
  }
  if (v instanceof GoStruct) {
    const parts = [...v.fields].map(([k, e]) => (f.plus ? `${k}:` : '') + formatValue(e, verb, f, depth + 1));
    return (v.opts.pointer && depth === 0 ? '&' : '') + '{' + parts.join(' ') + '}';
  }
  if (v instanceof GoFunc) return verb === 'v' || verb === 'p' ? '0x1' : badVerb(verb, v);
  return badVerb(verb, v);
}

/** Go's fmt.Sprint: spaces between operands when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  let prevString = false;
  args.forEach((a, i) => {
    const isString = typeof a === 'string';
    if (i > 0 && !isString && !prevString) out += ' ';
    out += formatValue(a, 'v');
    prevString = isString;
  });
  return out;
}

/** Go's fmt.Sprintln: operands separated by spaces, newline appended. */
export function sprintln(args: readonly GoValue[]): string {
  return args.map((a) => formatValue(a, 'v')).join(' ') + '\n';
}

function intArg(v: GoValue): number | undefined {
  if (typeof v === 'bigint' && v >= -BigInt(MAX_WIDTH) && v <= BigInt(MAX_WIDTH)) return Number(v);
  return undefined;
}

/** Go's fmt.Sprintf over template values. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const end = format.length;
  let i = 0;
  const parseIndex = (): void => {
    // at '[' : parse "[n]"
    const close = format.indexOf(']', i);
    const n = close > i ? Number(format.slice(i + 1, close)) : NaN;
    if (close < 0 || !Number.isInteger(n) || n < 1 || !/^\d+$/.test(format.slice(i + 1, close))) {
      goodArgNum = false;
      i = close < 0 ? end : close + 1;
      return;
    }
    i = close + 1;
    argNum = n - 1;
    reordered = true;
    if (argNum >= args.length) goodArgNum = false;
  };
  while (i < end) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const f: Flags = { plus: false, minus: false, sharp: false, space: false, zero: false };
    goodArgNum = true;
    flags: while (i < end) {
      switch (format[i]) {
        case '#':
          f.sharp = true;
          break;
        case '0':
          f.zero = !f.minus;
          break;
        case '+':
          f.plus = true;
          break;
        case '-':
          f.minus = true;
          f.zero = false;
          break;
        case ' ':
          f.space = true;
          break;
        default:
          break flags;
      }
      i++;
    }
    if (format[i] === '[') parseIndex();
    if (format[i] === '*') {
      i++;
      const w = goodArgNum && argNum < args.length ? intArg(args[argNum]) : undefined;
      argNum++;
      if (w === undefined) out += '%!(BADWIDTH)';
      else if (w < 0) {
        f.minus = true;
        f.zero = false;
        f.wid = -w;
      } else f.wid = w;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        const w = Number(m[0]);
        i += m[0].length;
        if (w > MAX_WIDTH) out += '%!(BADWIDTH)';
        else f.wid = w;
      }
    }
    if (format[i] === '.') {
      i++;
      if (format[i] === '[') parseIndex();
      if (format[i] === '*') {
        i++;
        const p = goodArgNum && argNum < args.length ? intArg(args[argNum]) : undefined;
        argNum++;
        if (p === undefined || p < 0) out += '%!(BADPREC)';
        else f.prec = p;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        const p = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
        if (p > MAX_WIDTH) out += '%!(BADPREC)';
        else f.prec = p;
      }
    }
    if (format[i] === '[') parseIndex();
    if (i >= end) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    if (verb === 'w') out += badVerb(verb, arg);
    else out += formatValue(arg, verb, f);
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ' + args.slice(argNum).map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${formatValue(a, 'v')}`)).join(', ') + ')';
  }
  return out;
}
