/**
 * The series vigil synthesizes (recording-rule results, `ALERTS` / `ALERTS_FOR_STATE`, forecast
 * and anomaly series), kept as the latest output of each rule group and rendered on `/metrics`
 * in the Prometheus text format 0.0.4: one `# HELP` / `# TYPE <name> gauge` per metric name
 * (families merged across groups, names sorted), samples without timestamps, values formatted
 * like Prometheus, stale markers and native histograms never rendered.
 */
import type { Registry } from 'prom-client';
import { labelsGet, METRIC_NAME } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { isStaleNaN } from '../model/samples.js';
import type { Sample } from '../promql/engine/values.js';
import type { SeriesSink } from '../rules/rule.js';
import { escapeHelp, escapeLabelValue, formatFloat, isValidLabelName, isValidMetricName } from './text-format.js';

/** Content type of the text exposition format 0.0.4. */
export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Default HELP text of a synthesized family. */
export const DEFAULT_HELP = 'Series synthesized by vigil rule evaluation.';

/** Options of {@link SynthesizedSeries}. */
export interface SynthesizedSeriesOptions {
  /** Tenant owning a group (undefined = the default tenant). */
  readonly tenantOf?: (groupKey: string) => string | undefined;
  /** HELP text of a family (default {@link DEFAULT_HELP}). */
  readonly help?: (metricName: string) => string;
  readonly logger?: Logger;
}

/** Options of {@link SynthesizedSeries.exposition}. */
export interface ExpositionOptions {
  /** Adds `<tenantLabel>="<tenant>"` to series of groups that have a tenant (unless already set). */
  readonly tenantLabel?: string;
  /** Only render groups of this tenant ('' = groups without a tenant). */
  readonly tenant?: string;
  /** Metric names not to render (e.g. names already exposed by the prom-client registry). */
  readonly exclude?: ReadonlySet<string>;
}

interface GroupOutput {
  readonly ts: number;
  readonly series: readonly Sample[];
}

/** Latest output per rule group, rendered as text exposition. */
export class SynthesizedSeries implements SeriesSink {
  private readonly groups = new Map<string, GroupOutput>();
  private readonly tenantOf: (groupKey: string) => string | undefined;
  private readonly help: (metricName: string) => string;
  private readonly logger: Logger;
  private skipped = 0;

  constructor(opts: SynthesizedSeriesOptions = {}) {
    this.tenantOf = opts.tenantOf ?? (() => undefined);
    this.help = opts.help ?? (() => DEFAULT_HELP);
    this.logger = opts.logger ?? nopLogger;
  }

  /** Replaces the output of `groupKey`. Never throws. */
  publish(groupKey: string, ts: number, series: readonly Sample[]): void {
    if (series.length === 0) this.groups.delete(groupKey);
    else this.groups.set(groupKey, { ts, series: series.slice() });
  }

  /** Forgets a removed group. */
  drop(groupKey: string): void {
    this.groups.delete(groupKey);
  }

  /** Number of groups with output. */
  get groupCount(): number {
    return this.groups.size;
  }

  /** Samples the last exposition left out (invalid names, duplicates). */
  get skippedSamples(): number {
    return this.skipped;
  }

  /** Renders the current series in the text format 0.0.4 ('' when there are none). */
  exposition(opts: ExpositionOptions = {}): string {
    const families = new Map<string, Map<string, string>>();
    let skipped = 0;
    const keys = [...this.groups.keys()].sort();
    for (const key of keys) {
      const tenant = this.tenantOf(key);
      if (opts.tenant !== undefined && (tenant ?? '') !== opts.tenant) continue;
      const extra = opts.tenantLabel !== undefined && isValidLabelName(opts.tenantLabel) && tenant !== undefined && tenant !== '' ? { name: opts.tenantLabel, value: tenant } : undefined;
      for (const s of this.groups.get(key)!.series) {
        if (s.h !== undefined || s.dropName === true || isStaleNaN(s.f)) continue;
        const name = labelsGet(s.metric, METRIC_NAME);
        if (!isValidMetricName(name) || opts.exclude?.has(name)) {
          if (name !== '' && !opts.exclude?.has(name)) skipped++;
          continue;
        }
        const rendered = renderLabels(s, extra);
        if (rendered === null) {
          skipped++;
          continue;
        }
        let fam = families.get(name);
        if (fam === undefined) families.set(name, (fam = new Map()));
        if (fam.has(rendered)) {
          skipped++; // the same series from two groups: the first (by group key) wins
          continue;
        }
        fam.set(rendered, formatFloat(s.f));
      }
    }
    if (skipped > 0 && skipped !== this.skipped) this.logger.debug('synthesized samples not exposed (invalid names or duplicates)', { skipped });
    this.skipped = skipped;
    const out: string[] = [];
    for (const name of [...families.keys()].sort()) {
      const fam = families.get(name)!;
      out.push(`# HELP ${name} ${escapeHelp(this.help(name))}`, `# TYPE ${name} gauge`);
      for (const ls of [...fam.keys()].sort()) out.push(`${name}${ls} ${fam.get(ls)!}`);
    }
    return out.length === 0 ? '' : out.join('\n') + '\n';
  }
}

/** `{a="1",b="2"}` (or '' without labels); null when a label name is invalid. */
function renderLabels(s: Sample, extra: { name: string; value: string } | undefined): string | null {
  const parts: string[] = [];
  let extraDone = extra === undefined || labelsGet(s.metric, extra.name) !== '';
  for (const l of s.metric) {
    if (l.name === METRIC_NAME || l.value === '') continue;
    if (!isValidLabelName(l.name)) return null;
    if (!extraDone && extra!.name < l.name) {
      parts.push(`${extra!.name}="${escapeLabelValue(extra!.value)}"`);
      extraDone = true;
    }
    parts.push(`${l.name}="${escapeLabelValue(l.value)}"`);
  }
  if (!extraDone) {
    parts.push(`${extra!.name}="${escapeLabelValue(extra!.value)}"`);
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * The full `/metrics` body: the prom-client registry's metrics followed by the synthesized
 * series (synthesized families whose name the registry already exposes are left out, so no
 * family appears twice).
 */
export async function metricsText(registry: Registry, synthesized: SynthesizedSeries, opts: Omit<ExpositionOptions, 'exclude'> = {}): Promise<string> {
  const own = await registry.metrics();
  const names = new Set(registry.getMetricsAsArray().map((m) => m.name));
  const syn = synthesized.exposition({ ...opts, exclude: names });
  if (syn === '') return own;
  return own === '' || own.endsWith('\n') ? own + syn : `${own}\n${syn}`;
}
