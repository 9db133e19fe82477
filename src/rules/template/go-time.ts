/**
 * Go `time.Time` (UTC only, millisecond precision as Prometheus's toTime produces) and
 * `time.Duration` as template values: their `String()` forms, a subset of their methods, and
 * `Time.Format` with Go's reference-time layouts.
 */

import { GoStruct, type GoCallable, type GoValue } from './values.js';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const p2 = (n: number): string => String(n).padStart(2, '0');

/** Fractional seconds for `.000` (fixed) / `.999` (trimmed) layouts, from milliseconds. */
function frac(ms: number, n: number, trimmed: boolean): string {
  let digits = String(ms).padStart(3, '0').padEnd(9, '0').slice(0, n);
  if (trimmed) digits = digits.replace(/0+$/, '');
  return digits === '' ? '' : '.' + digits;
}

/** Formats a UTC time (ms since epoch) with a Go layout such as `2006-01-02 15:04:05`. */
export function formatGoTime(ms: number, layout: string): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const day = d.getUTCDate();
  const hour = d.getUTCHours();
  const min = d.getUTCMinutes();
  const sec = d.getUTCSeconds();
  const milli = d.getUTCMilliseconds();
  const yday = Math.floor((Date.UTC(year, month, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  let out = '';
  let i = 0;
  const starts = (s: string): boolean => layout.startsWith(s, i);
  while (i < layout.length) {
    const c = layout[i]!;
    let tok: string | undefined;
    let val = '';
    if (starts('January')) [tok, val] = ['January', MONTHS[month]!];
    else if (starts('Jan')) [tok, val] = ['Jan', MONTHS[month]!.slice(0, 3)];
    else if (starts('Monday')) [tok, val] = ['Monday', DAYS[d.getUTCDay()]!];
    else if (starts('Mon')) [tok, val] = ['Mon', DAYS[d.getUTCDay()]!.slice(0, 3)];
    else if (starts('MST')) [tok, val] = ['MST', 'UTC'];
    else if (starts('2006')) [tok, val] = ['2006', String(year).padStart(4, '0')];
    else if (starts('002')) [tok, val] = ['002', String(yday).padStart(3, '0')];
    else if (c === '0' && layout[i + 1]! >= '1' && layout[i + 1]! <= '6') {
      tok = layout.slice(i, i + 2);
      val = [p2(month + 1), p2(day), p2(hour % 12 === 0 ? 12 : hour % 12), p2(min), p2(sec), p2(year % 100)][Number(layout[i + 1]) - 1]!;
    } else if (starts('15')) [tok, val] = ['15', p2(hour)];
    else if (starts('__2')) [tok, val] = ['__2', String(yday).padStart(3, ' ')];
    else if (starts('_2')) [tok, val] = ['_2', String(day).padStart(2, ' ')];
    else if (c === '1') [tok, val] = ['1', String(month + 1)];
    else if (c === '2') [tok, val] = ['2', String(day)];
    else if (c === '3') [tok, val] = ['3', String(hour % 12 === 0 ? 12 : hour % 12)];
    else if (c === '4') [tok, val] = ['4', String(min)];
    else if (c === '5') [tok, val] = ['5', String(sec)];
    else if (starts('PM')) [tok, val] = ['PM', hour >= 12 ? 'PM' : 'AM'];
    else if (starts('pm')) [tok, val] = ['pm', hour >= 12 ? 'pm' : 'am'];
    else if ((tok = ['Z07:00:00', 'Z070000', 'Z07:00', 'Z0700', 'Z07'].find(starts)) !== undefined) val = 'Z';
    else if ((tok = ['-07:00:00', '-070000', '-07:00', '-0700', '-07'].find(starts)) !== undefined) val = tok.replace('-07', '+00');
    else if ((c === '.' || c === ',') && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
      const ch = layout[i + 1]!;
      let j = i + 1;
      while (layout[j] === ch) j++;
      if (!(layout[j]! >= '0' && layout[j]! <= '9')) {
        tok = layout.slice(i, j);
        const f = frac(milli, j - i - 1, ch === '9');
        val = c === ',' && f !== '' ? ',' + f.slice(1) : f;
      }
    }
    if (tok === undefined) {
      out += c;
      i++;
    } else {
      out += val;
      i += tok.length;
    }
  }
  return out;
}

/** Go's Time.String() for a UTC time: `2006-01-02 15:04:05.999999999 -0700 MST`. */
export function goTimeString(ms: number): string {
  return formatGoTime(ms, '2006-01-02 15:04:05.999999999 -0700 MST');
}

function method(params: GoCallable['params'], call: (args: GoValue[]) => GoValue): GoCallable {
  return { params, call };
}

/** A `*time.Time` template value for a UTC instant in ms. */
export function goTime(ms: number): GoStruct {
  const d = (): Date => new Date(ms);
  return new GoStruct('*time.Time', new Map(), {
    pointer: true,
    stringer: () => goTimeString(ms),
    methods: {
      Format: method(['string'], ([layout]) => formatGoTime(ms, layout as string)),
      String: method([], () => goTimeString(ms)),
      Unix: method([], () => BigInt(Math.floor(ms / 1000))),
      UnixMilli: method([], () => BigInt(ms)),
      UnixNano: method([], () => BigInt(ms) * 1_000_000n),
      UTC: method([], () => goTime(ms)),
      Year: method([], () => BigInt(d().getUTCFullYear())),
      Month: method([], () => MONTHS[d().getUTCMonth()]!),
      Day: method([], () => BigInt(d().getUTCDate())),
      Weekday: method([], () => DAYS[d().getUTCDay()]!),
      Hour: method([], () => BigInt(d().getUTCHours())),
      Minute: method([], () => BigInt(d().getUTCMinutes())),
      Second: method([], () => BigInt(d().getUTCSeconds())),
    },
  });
}

/** Go's fmtFrac: `v / 10^prec` with trailing fractional zeros (and a bare dot) removed. */
function fracString(v: bigint, prec: number): { s: string; rest: bigint } {
  const pow = 10n ** BigInt(prec);
  let f = (v % pow).toString().padStart(prec, '0').replace(/0+$/, '');
  f = f === '' ? '' : '.' + f;
  return { s: f, rest: v / pow };
}

/** Go's Duration.String() for a duration in nanoseconds: `1h2m3.5s`, `1.5ms`, `0s`. */
export function goDurationString(ns: bigint): string {
  if (ns === 0n) return '0s';
  const neg = ns < 0n;
  const u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    const [prec, unit] = u < 1_000n ? [0, 'ns'] : u < 1_000_000n ? [3, 'µs'] : [6, 'ms'];
    const { s, rest } = fracString(u, prec);
    out = rest.toString() + s + unit;
  } else {
    const { s, rest } = fracString(u, 9);
    out = (rest % 60n).toString() + s + 's';
    let r = rest / 60n;
    if (r > 0n) {
      out = (r % 60n).toString() + 'm' + out;
      r /= 60n;
      if (r > 0n) out = r.toString() + 'h' + out;
    }
  }
  return (neg ? '-' : '') + out;
}

/** A `*time.Duration` template value for a duration in nanoseconds. */
export function goDuration(ns: bigint): GoStruct {
  const secs = Number(ns) / 1e9;
  return new GoStruct('*time.Duration', new Map(), {
    pointer: true,
    stringer: () => goDurationString(ns),
    methods: {
      String: method([], () => goDurationString(ns)),
      Seconds: method([], () => secs),
      Minutes: method([], () => secs / 60),
      Hours: method([], () => secs / 3600),
      Milliseconds: method([], () => ns / 1_000_000n),
      Nanoseconds: method([], () => ns),
    },
  });
}
