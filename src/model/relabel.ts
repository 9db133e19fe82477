/**
 * Prometheus relabeling: `relabel_configs`, `metric_relabel_configs`, `write_relabel_configs`
 * and `alert_relabel_configs` all use this. Regexes are fully anchored (`^(?:re)$`) and compiled
 * once per config list by {@link compileRelabel}; the returned closure never throws.
 * Replacement templates follow Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`.
 */
import { createHash } from 'node:crypto';
import type { RelabelConfig } from '../config/types.js';
import { ValidationError } from './errors.js';
import type { Label, Labels } from './labels.js';

/** Relabel actions, in the order Prometheus documents them. */
export const RELABEL_ACTIONS: readonly RelabelConfig['action'][] = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
];

/** Prometheus defaults of a relabel config. */
export const RELABEL_DEFAULTS = Object.freeze({
  separator: ';',
  regex: '(.*)',
  replacement: '$1',
  action: 'replace' as const,
  modulus: 0,
  targetLabel: '',
});

/** A compiled relabel config list: returns the new label set, or null when dropped. */
export type CompiledRelabel = (labels: Labels) => Labels | null;

/** Translates Go/RE2 syntax JS lacks (leading `(?i)`/`(?s)` flags, `(?P<name>`), anchors, compiles. */
export function compileAnchoredRegex(src: string): RegExp {
  let body = src;
  let flags = '';
  const m = /^\(\?([is]+)\)/.exec(body);
  if (m) {
    for (const f of new Set(m[1]!)) flags += f;
    body = body.slice(m[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<');
  const anchored = `^(?:${body})$`;
  try {
    return new RegExp(anchored, flags + 'u');
  } catch {
    try {
      return new RegExp(anchored, flags);
    } catch (err) {
      throw new ValidationError(`invalid regex ${JSON.stringify(src)}: ${(err as Error).message}`, { cause: err });
    }
  }
}

function isWordCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Expands a replacement template against a match, as Go's `Regexp.Expand`. */
export function expandTemplate(tpl: string, m: RegExpExecArray): string {
  if (!tpl.includes('$')) return tpl;
  let out = '';
  let i = 0;
  while (i < tpl.length) {
    const d = tpl.indexOf('$', i);
    if (d < 0) {
      out += tpl.slice(i);
      break;
    }
    out += tpl.slice(i, d);
    i = d + 1;
    if (tpl.charCodeAt(i) === 36) {
      out += '$';
      i++;
      continue;
    }
    let name = '';
    if (tpl.charCodeAt(i) === 123) {
      const close = tpl.indexOf('}', i + 1);
      const inner = close < 0 ? '' : tpl.slice(i + 1, close);
      let ok = inner.length > 0;
      for (let k = 0; ok && k < inner.length; k++) ok = isWordCode(inner.charCodeAt(k));
      if (!ok) {
        out += '$';
        continue;
      }
      name = inner;
      i = close + 1;
    } else {
      let j = i;
      while (j < tpl.length && isWordCode(tpl.charCodeAt(j))) j++;
      if (j === i) {
        out += '$';
        continue;
      }
      name = tpl.slice(i, j);
      i = j;
    }
    if (/^\d+$/.test(name)) {
      const idx = Number(name);
      out += idx < m.length ? (m[idx] ?? '') : '';
    } else {
      out += m.groups?.[name] ?? '';
    }
  }
  return out;
}

/** md5 of `val`, last 8 bytes as big-endian uint64, modulo `modulus` (Prometheus hashmod). */
export function hashMod(val: string, modulus: number): string {
  const digest = createHash('md5').update(val, 'utf8').digest();
  return (digest.readBigUInt64BE(8) % BigInt(modulus)).toString();
}

type Step = (lb: Map<string, string>) => boolean;

function sourceValue(lb: Map<string, string>, names: readonly string[], sep: string): string {
  if (names.length === 1) return lb.get(names[0]!) ?? '';
  let s = '';
  for (let i = 0; i < names.length; i++) {
    if (i > 0) s += sep;
    s += lb.get(names[i]!) ?? '';
  }
  return s;
}

function setLabel(lb: Map<string, string>, name: string, value: string): void {
  if (value === '') lb.delete(name);
  else lb.set(name, value);
}

function compileStep(cfg: RelabelConfig): Step {
  const re = compileAnchoredRegex(cfg.regex);
  const { sourceLabels: src, separator: sep, targetLabel: target, replacement: repl } = cfg;
  const action = cfg.action;
  switch (action) {
    case 'replace':
      return (lb) => {
        const m = re.exec(sourceValue(lb, src, sep));
        if (m === null) return true;
        const t = expandTemplate(target, m);
        if (t === '') return true;
        setLabel(lb, t, expandTemplate(repl, m));
        return true;
      };
    case 'keep':
      return (lb) => re.test(sourceValue(lb, src, sep));
    case 'drop':
      return (lb) => !re.test(sourceValue(lb, src, sep));
    case 'keepequal':
      return (lb) => (lb.get(target) ?? '') === sourceValue(lb, src, sep);
    case 'dropequal':
      return (lb) => (lb.get(target) ?? '') !== sourceValue(lb, src, sep);
    case 'hashmod': {
      const mod = cfg.modulus;
      return (lb) => {
        if (mod > 0) setLabel(lb, target, hashMod(sourceValue(lb, src, sep), mod));
        return true;
      };
    }
    case 'labelmap':
      return (lb) => {
        const adds: [string, string][] = [];
        for (const [name, value] of lb) {
          const m = re.exec(name);
          if (m !== null) adds.push([expandTemplate(repl, m), value]);
        }
        for (const [n, v] of adds) if (n !== '') setLabel(lb, n, v);
        return true;
      };
    case 'labeldrop':
      return (lb) => {
        for (const name of [...lb.keys()]) if (re.test(name)) lb.delete(name);
        return true;
      };
    case 'labelkeep':
      return (lb) => {
        for (const name of [...lb.keys()]) if (!re.test(name)) lb.delete(name);
        return true;
      };
    case 'lowercase':
      return (lb) => {
        setLabel(lb, target, sourceValue(lb, src, sep).toLowerCase());
        return true;
      };
    case 'uppercase':
      return (lb) => {
        setLabel(lb, target, sourceValue(lb, src, sep).toUpperCase());
        return true;
      };
    default: {
      const never: never = action;
      throw new ValidationError(`unknown relabel action ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Compiles a relabel config list once. Throws {@link ValidationError} for an invalid regex;
 * the returned function never throws.
 */
export function compileRelabel(cfgs: readonly RelabelConfig[]): CompiledRelabel {
  if (cfgs.length === 0) return (labels) => labels;
  const steps = cfgs.map(compileStep);
  return (labels) => {
    const lb = new Map<string, string>();
    for (const l of labels) lb.set(l.name, l.value);
    try {
      for (const step of steps) if (!step(lb)) return null;
    } catch {
      return null; // unreachable in practice; the hot path must not throw
    }
    const out: Label[] = [];
    for (const [name, value] of lb) out.push({ name, value });
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  };
}

const cache = new WeakMap<readonly RelabelConfig[], CompiledRelabel>();

/** Applies relabel configs (compiled once per array identity). Returns null when dropped. */
export function relabel(labels: Labels, cfgs: readonly RelabelConfig[]): Labels | null {
  let fn = cache.get(cfgs);
  if (fn === undefined) {
    fn = compileRelabel(cfgs);
    cache.set(cfgs, fn);
  }
  return fn(labels);
}


const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Prometheus's check for a templated target label / labelmap replacement. */
const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;
const KNOWN_KEYS = new Set(['source_labels', 'separator', 'regex', 'modulus', 'target_label', 'replacement', 'action']);

function str(raw: Record<string, unknown>, key: string, where: string, def: string): string {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ValidationError(`${where}: ${key} must be a string`);
}

/**
 * Validates one raw (YAML-decoded, snake_case) relabel config and fills in Prometheus defaults
 * (separator `;`, regex `(.*)`, replacement `$1`, action `replace`). `where` prefixes messages,
 * e.g. `scrape_configs[0].relabel_configs[2]`. Throws {@link ValidationError}.
 */
export function parseRelabelConfig(raw: unknown, where: string): RelabelConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(`${where}: relabel config must be a mapping`);
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!KNOWN_KEYS.has(k)) throw new ValidationError(`${where}: unknown field ${JSON.stringify(k)}`);
  let sourceLabels: string[] = [];
  if (r['source_labels'] !== undefined && r['source_labels'] !== null) {
    const sl = r['source_labels'];
    if (!Array.isArray(sl) || !sl.every((x) => typeof x === 'string')) throw new ValidationError(`${where}: source_labels must be a list of strings`);
    for (const n of sl as string[]) if (n === '') throw new ValidationError(`${where}: source_labels contains an empty label name`);
    sourceLabels = sl as string[];
  }
  const separator = str(r, 'separator', where, RELABEL_DEFAULTS.separator);
  const regex = str(r, 'regex', where, RELABEL_DEFAULTS.regex);
  const targetLabel = str(r, 'target_label', where, '');
  const replacement = str(r, 'replacement', where, RELABEL_DEFAULTS.replacement);
  const actionRaw = str(r, 'action', where, RELABEL_DEFAULTS.action).toLowerCase();
  if (actionRaw === '') throw new ValidationError(`${where}: relabel action cannot be empty`);
  const action = RELABEL_ACTIONS.find((a) => a === actionRaw);
  if (action === undefined) throw new ValidationError(`${where}: unknown relabel action ${JSON.stringify(actionRaw)} (expected one of ${RELABEL_ACTIONS.join(', ')})`);
  let modulus = 0;
  if (r['modulus'] !== undefined && r['modulus'] !== null) {
    const m = r['modulus'];
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m < 0) throw new ValidationError(`${where}: modulus must be a non-negative integer`);
    modulus = m;
  }
  try {
    compileAnchoredRegex(regex);
  } catch (err) {
    throw new ValidationError(`${where}: ${(err as Error).message}`, { cause: err });
  }
  const fail = (msg: string): never => {
    throw new ValidationError(`${where}: ${msg}`);
  };
  if (action === 'hashmod' && modulus === 0) fail('relabel configuration for hashmod requires non-zero modulus');
  const needsTarget = ['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action);
  if (needsTarget && targetLabel === '') fail(`relabel configuration for ${action} action requires 'target_label' value`);
  if (action === 'replace' && !RELABEL_TARGET_RE.test(targetLabel)) fail(`${JSON.stringify(targetLabel)} is invalid 'target_label' for ${action} action`);
  if (['hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal'].includes(action) && !LABEL_NAME_RE.test(targetLabel)) {
    fail(`${JSON.stringify(targetLabel)} is invalid 'target_label' for ${action} action`);
  }
  if ((action === 'lowercase' || action === 'uppercase') && replacement !== RELABEL_DEFAULTS.replacement) fail(`'replacement' can not be set for ${action} action`);
  if (action === 'labelmap' && !RELABEL_TARGET_RE.test(replacement)) fail(`${JSON.stringify(replacement)} is invalid 'replacement' for ${action} action`);
  if (
    (action === 'keepequal' || action === 'dropequal') &&
    (regex !== RELABEL_DEFAULTS.regex || modulus !== 0 || separator !== RELABEL_DEFAULTS.separator || replacement !== RELABEL_DEFAULTS.replacement)
  ) {
    fail(`${action} action requires only 'source_labels' and 'target_label', and no other fields`);
  }
  if (
    (action === 'labeldrop' || action === 'labelkeep') &&
    (sourceLabels.length > 0 || targetLabel !== '' || modulus !== 0 || separator !== RELABEL_DEFAULTS.separator || replacement !== RELABEL_DEFAULTS.replacement)
  ) {
    fail(`${action} action requires only 'regex', and no other fields`);
  }
  return { sourceLabels, separator, regex, modulus, targetLabel, replacement, action };
}
