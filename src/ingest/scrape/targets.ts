/**
 * Target groups (from static configs and file_sd) → scrape targets: default labels, target
 * relabeling, `instance` defaulting, URL building from `__scheme__`, `__address__`,
 * `__metrics_path__` and `__param_*`, and the public label set attached to every sample.
 */
import type { ScrapeConfig } from '../../config/types.js';
import { labelsHash, labelsKey, type Label, type Labels } from '../../model/labels.js';
import { compileRelabel, type CompiledRelabel } from '../../model/relabel.js';

/** A set of targets sharing labels, as produced by service discovery. */
export interface TargetGroup {
  /** Unique id of the group within its provider (e.g. `file.json:0`). */
  readonly source: string;
  /** One label set per target; each has at least `__address__`. */
  readonly targets: readonly Labels[];
  /** Labels common to all targets of the group. */
  readonly labels: Labels;
}

/** A target ready to scrape. */
export interface ScrapeTarget {
  readonly job: string;
  /** Unique key of the target within the job (URL + public labels). */
  readonly key: string;
  readonly url: string;
  /** Labels attached to every scraped sample (no `__`-prefixed labels). */
  readonly labels: Labels;
  /** Labels before relabeling (for the targets API). */
  readonly discoveredLabels: Labels;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Stable hash used to spread scrape start times over the interval. */
  readonly hash: number;
}

/** A target removed by relabeling or invalid after it. */
export interface DroppedTarget {
  readonly job: string;
  readonly discoveredLabels: Labels;
  /** Why: `relabeling` or an error message. */
  readonly reason: string;
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Parses a Prometheus duration (`1h30m`, `15s`, `500ms`, `0`) into ms; undefined when invalid. */
export function parsePromDuration(s: string): number | undefined {
  if (s === '0') return 0;
  if (s === '') return undefined;
  const m = DURATION_RE.exec(s);
  if (m === null) return undefined;
  let ms = 0;
  for (let i = 0; i < UNIT_MS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) ms += Number(g) * UNIT_MS[i]!;
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Formats ms as a Prometheus duration (`1m30s`, `0s`). */
export function formatPromDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const names = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let rest = Math.floor(ms);
  let out = '';
  for (let i = 0; i < UNIT_MS.length; i++) {
    const q = Math.floor(rest / UNIT_MS[i]!);
    if (q > 0) {
      out += `${q}${names[i]}`;
      rest -= q * UNIT_MS[i]!;
    }
  }
  return out;
}

/** Target groups of a job's `static_configs`. */
export function staticGroups(cfg: ScrapeConfig): TargetGroup[] {
  return cfg.staticConfigs.map((sc, i) => ({
    source: `static:${i}`,
    targets: sc.targets.map((t) => [{ name: '__address__', value: t }]),
    labels: Object.entries(sc.labels)
      .filter(([, v]) => v !== '')
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  }));
}

function sortedLabels(m: Map<string, string>): Label[] {
  const out: Label[] = [];
  for (const [name, value] of m) if (value !== '') out.push({ name, value });
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function buildUrl(scheme: string, address: string, path: string, params: Map<string, string[]>): string {
  const qs = new URLSearchParams();
  for (const [k, vs] of params) for (const v of vs) qs.append(k, v);
  const q = qs.toString();
  const p = path.startsWith('/') ? path : `/${path}`;
  return `${scheme}://${address}${p}${q === '' ? '' : `?${q}`}`;
}

/** Result of {@link buildTargets}. */
export interface BuiltTargets {
  readonly active: ScrapeTarget[];
  readonly dropped: DroppedTarget[];
}

/**
 * Turns target groups into scrape targets for one job, as Prometheus's PopulateLabels does.
 * `relabelFn` defaults to compiling `cfg.relabelConfigs`. Duplicate targets are merged.
 */
export function buildTargets(cfg: ScrapeConfig, groups: readonly TargetGroup[], relabelFn?: CompiledRelabel): BuiltTargets {
  const rl = relabelFn ?? compileRelabel(cfg.relabelConfigs);
  const active: ScrapeTarget[] = [];
  const dropped: DroppedTarget[] = [];
  const seen = new Set<string>();
  for (const g of groups) {
    for (const t of g.targets) {
      const lb = new Map<string, string>();
      for (const l of t) lb.set(l.name, l.value);
      for (const l of g.labels) if (!lb.has(l.name)) lb.set(l.name, l.value);
      const defaults: [string, string][] = [
        ['job', cfg.jobName],
        ['__scrape_interval__', formatPromDuration(cfg.scrapeInterval)],
        ['__scrape_timeout__', formatPromDuration(cfg.scrapeTimeout)],
        ['__metrics_path__', cfg.metricsPath],
        ['__scheme__', cfg.scheme],
      ];
      for (const [k, v] of defaults) if (!lb.get(k)) lb.set(k, v);
      for (const [k, vs] of Object.entries(cfg.params)) {
        const name = `__param_${k}`;
        if (!lb.get(name) && vs[0] !== undefined) lb.set(name, vs[0]);
      }
      const discovered = sortedLabels(lb);
      const res = buildOne(cfg, discovered, rl);
      if (typeof res === 'string') {
        dropped.push({ job: cfg.jobName, discoveredLabels: discovered, reason: res });
        continue;
      }
      if (seen.has(res.key)) continue;
      seen.add(res.key);
      active.push(res);
    }
  }
  return { active, dropped };
}

function buildOne(cfg: ScrapeConfig, discovered: Labels, rl: CompiledRelabel): ScrapeTarget | string {
  const after = rl(discovered);
  if (after === null) return 'relabeling';
  const lb = new Map<string, string>();
  for (const l of after) lb.set(l.name, l.value);
  const address = lb.get('__address__') ?? '';
  if (address === '') return 'no address';
  if (address.includes('/') || /\s/.test(address)) return `${JSON.stringify(address)} is not a valid hostname`;
  const scheme = lb.get('__scheme__') ?? cfg.scheme;
  if (scheme !== 'http' && scheme !== 'https') return `invalid scheme ${JSON.stringify(scheme)}`;
  const intervalMs = parsePromDuration(lb.get('__scrape_interval__') ?? '');
  const timeoutMs = parsePromDuration(lb.get('__scrape_timeout__') ?? '');
  if (intervalMs === undefined || intervalMs <= 0) return `invalid __scrape_interval__ ${JSON.stringify(lb.get('__scrape_interval__') ?? '')}`;
  if (timeoutMs === undefined || timeoutMs <= 0) return `invalid __scrape_timeout__ ${JSON.stringify(lb.get('__scrape_timeout__') ?? '')}`;
  if (timeoutMs > intervalMs) return `__scrape_timeout__ "${formatPromDuration(timeoutMs)}" greater than __scrape_interval__ "${formatPromDuration(intervalMs)}"`;
  if (!lb.get('instance')) lb.set('instance', address);
  const params = new Map<string, string[]>();
  for (const [k, vs] of Object.entries(cfg.params)) params.set(k, [...vs]);
  for (const [name, value] of lb) {
    if (!name.startsWith('__param_')) continue;
    const p = name.slice('__param_'.length);
    const cur = params.get(p);
    if (cur !== undefined && cur.length > 0) cur[0] = value;
    else params.set(p, [value]);
  }
  const url = buildUrl(scheme, address, lb.get('__metrics_path__') ?? cfg.metricsPath, params);
  const pub = new Map<string, string>();
  for (const [k, v] of lb) if (!k.startsWith('__')) pub.set(k, v);
  const labels = sortedLabels(pub);
  const key = `${url}\u0000${labelsKey(labels)}`;
  let hash = labelsHash(labels);
  for (let i = 0; i < url.length; i++) hash = Math.imul(hash ^ url.charCodeAt(i), 0x01000193) >>> 0;
  return { job: cfg.jobName, key, url, labels, discoveredLabels: discovered, intervalMs, timeoutMs, hash };
}
