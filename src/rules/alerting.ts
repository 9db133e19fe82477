/**
 * Alerting rules: the alert state machine of the Prometheus Alert Generator Compliance
 * Specification (inactive → pending → firing, `for`, `keep_firing_for`, 15 min retention of
 * resolved alerts, resend policy) and the `ALERTS` / `ALERTS_FOR_STATE` output series.
 */
import { labelsKey, labelsToObject, LabelsBuilder, METRIC_NAME, type Labels } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import type { Expr } from '../promql/parser/ast.js';
import type { Sample } from '../promql/engine/values.js';
import { errMessage, monoMs, parseRuleExpr, rememberKey, RecordedRule } from './base.js';
import type { Alert, AlertingRuleConfig, AlertState, EvalContext, Rule, RuleResult } from './rule.js';
import { seriesHash, SeriesMemoTable, type SeriesMemo } from './series-memo.js';
import { defaultTemplater, templateDependence, type ExpandOptions, type TemplateData, type TemplateDependence, type Templater } from './templating.js';

/** How long resolved alerts are kept (and re-sent) after resolution. */
export const RESOLVED_RETENTION_MS = 15 * 60_000;
/** Name of the series of active alerts. */
export const ALERTS_METRIC = 'ALERTS';
/** Name of the series carrying each active alert's activeAt (seconds), for restoring `for` state. */
export const ALERTS_FOR_STATE_METRIC = 'ALERTS_FOR_STATE';
/** Label with the alert state on `ALERTS`. */
export const ALERT_STATE_LABEL = 'alertstate';
/** Label with the alert name. */
export const ALERT_NAME_LABEL = 'alertname';
/** Error text when two alerts collide after applying labels (as Prometheus). */
export const ERR_DUPLICATE_ALERT = 'vector contains metrics with the same labelset after applying alert labels';

/** Options of {@link AlertingRule}. */
export interface AlertingRuleOptions {
  /** Minimum time between two notifications of the same alert (default 1m). */
  readonly resendDelayMs?: number;
  /** Template engine (default: the Go-template engine). */
  readonly templater?: Templater;
  /**
   * False when the `for` state still has to be restored from `ALERTS_FOR_STATE` (startup):
   * until {@link AlertingRule.setRestored} no `ALERTS`/`ALERTS_FOR_STATE` series are produced.
   */
  readonly restored?: boolean;
  readonly logger?: Logger;
}

/** A runnable alerting rule. */
export class AlertingRule extends RecordedRule implements Rule {
  readonly kind = 'alerting' as const;
  readonly name: string;
  /** Parsed expression (undefined when it does not parse; every eval then fails). */
  readonly expr: Expr | undefined;
  /** The expression as printed (for generatorURL and the API). */
  readonly query: string;
  private readonly parseError: string | undefined;
  private readonly active = new Map<string, Alert>();
  private readonly resendDelay: number;
  private readonly templater: Templater;
  private readonly logger: Logger;
  private restored: boolean;
  private deferred: { entries: Map<string, { t: number; v: number }>; until: number; gracePeriodMs: number } | undefined;
  /** Rule labels / annotations (annotations sorted by name) with what their templates depend on. */
  private readonly labelTpls: readonly TemplateSpec[];
  private readonly annTpls: readonly TemplateSpec[];
  /** `labelTpls` then `annTpls`: the order of {@link SeriesMemo.vals}. */
  private readonly tpls: readonly TemplateSpec[];
  /** Template name of the rule (`__alert_<name>`), built once rather than per expansion. */
  private readonly tplName: string;
  /** Expansion results of the series being processed (synchronous path only; see seriesMemo). */
  private readonly scratch: string[];
  /** Per input series: the last expansion results, reused while their inputs do not change. */
  private readonly memo = new SeriesMemoTable();
  private memoExtLabels: Readonly<Record<string, string>> | undefined;
  private memoExtURL: string | undefined;
  /** `ALERTS` / `ALERTS_FOR_STATE` label sets per held alert. */
  private readonly outLabels = new WeakMap<Alert, { labels: Labels; state: AlertState; alerts: Labels; forState: Labels }>();

  /** `config.labels` should already include the group labels (rule labels winning). */
  constructor(
    readonly config: AlertingRuleConfig,
    opts: AlertingRuleOptions = {},
  ) {
    super();
    this.name = config.alert;
    this.resendDelay = opts.resendDelayMs ?? 60_000;
    this.templater = opts.templater ?? defaultTemplater;
    this.logger = opts.logger ?? nopLogger;
    this.restored = opts.restored ?? true;
    const pure = this.templater.pure === true;
    const spec = ([name, text]: [string, string]): TemplateSpec => ({ name, text, dep: pure ? templateDependence(text) : 'volatile' });
    this.labelTpls = Object.entries(config.labels).map(spec);
    this.annTpls = Object.entries(config.annotations)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(spec);
    this.tpls = [...this.labelTpls, ...this.annTpls];
    this.tplName = `__alert_${this.name}`;
    this.scratch = new Array<string>(this.tpls.length).fill('');
    ({ expr: this.expr, query: this.query, parseError: this.parseError } = parseRuleExpr(config.expr));
  }

  /** The `for` duration (ms). */
  get holdDuration(): number {
    return this.config.for;
  }

  /**
   * Restore entries for alerts that were not active at the restore (their data had not arrived
   * yet): applied when such an alert first appears, until `until` (ms).
   */
  deferRestore(entries: Map<string, { t: number; v: number }>, until: number, gracePeriodMs: number): void {
    this.deferred = { entries, until, gracePeriodMs };
  }

  /** True once the `for` state was restored (or did not need restoring). */
  isRestored(): boolean {
    return this.restored;
  }

  /** Marks the `for` state as restored: ALERTS series are produced from now on. */
  setRestored(v = true): void {
    this.restored = v;
  }

  /** Evaluates once; never throws. */
  async eval(ctx: EvalContext): Promise<RuleResult> {
    const start = monoMs();
    const ts = ctx.ts;
    try {
      if (!this.expr) throw new Error(this.parseError ?? 'no expression');
      const vec = await ctx.query(this.expr, ts, ctx.signal);
      if (ctx.externalURL !== this.memoExtURL || (ctx.externalLabels !== this.memoExtLabels && !sameRecord(ctx.externalLabels, this.memoExtLabels))) {
        this.memo.clear();
        this.memoExtLabels = ctx.externalLabels;
        this.memoExtURL = ctx.externalURL;
      }
      const fresh = new Map<string, SeriesMemo>();
      const topts: ExpandOptions = {
        timestampMs: ts,
        queryAsync: async (q: string) => (await ctx.query(q, ts, ctx.signal)).map((x) => ({ labels: labelsToObject(x.metric), value: x.f })),
      };
      this.memo.beginEval();
      for (const s of vec) {
        // Synchronous unless a template runs a query: no promise per series in the common case.
        const x = this.seriesMemo(s, ctx, topts);
        const m = x instanceof Promise ? await x : x;
        if (fresh.has(m.key)) throw new Error(ERR_DUPLICATE_ALERT);
        fresh.set(m.key, m);
      }
      this.memo.endEval();
      // forEach rather than for-of over entries: no [key, value] array per alert (large rules).
      fresh.forEach((m, key) => {
        const cur = this.active.get(key);
        if (cur && cur.state !== 'inactive') {
          cur.value = m.value;
          cur.annotations = m.annotations;
          return;
        }
        const a: Alert = {
          labels: m.labels,
          annotations: m.annotations,
          state: 'pending',
          value: m.value,
          activeAt: ts,
          firedAt: 0,
          resolvedAt: 0,
          lastSentAt: 0,
          validUntil: 0,
          keepFiringSince: 0,
        };
        if (this.deferred) {
          const d = this.deferred;
          const prev = ts <= d.until ? d.entries.get(key) : undefined;
          if (prev) {
            a.activeAt = restoredActiveAt(this.config.for, prev.t, prev.v, ts, d.gracePeriodMs);
            d.entries.delete(key);
          }
          if (ts > d.until || d.entries.size === 0) this.deferred = undefined;
        }
        this.active.set(key, a);
      });
      const series: Sample[] = [];
      let numActive = 0;
      this.active.forEach((a, key) => {
        if (!fresh.has(key)) {
          let keepFiring = false;
          if (a.state === 'firing' && this.config.keepFiringFor > 0) {
            if (a.keepFiringSince === 0) a.keepFiringSince = ts;
            if (ts - a.keepFiringSince < this.config.keepFiringFor) keepFiring = true;
          }
          if (a.state === 'pending' || (a.resolvedAt !== 0 && ts - a.resolvedAt > RESOLVED_RETENTION_MS)) this.active.delete(key);
          if (a.state !== 'inactive' && !keepFiring) {
            a.state = 'inactive';
            a.resolvedAt = ts;
          }
          if (!keepFiring) return;
        } else {
          a.keepFiringSince = 0;
        }
        numActive++;
        if (a.state === 'pending' && ts - a.activeAt >= this.config.for) {
          a.state = 'firing';
          a.firedAt = ts;
        }
        if (this.restored) {
          let o = this.outLabels.get(a);
          if (o === undefined || o.labels !== a.labels) this.outLabels.set(a, (o = { labels: a.labels, state: a.state, alerts: keyed(alertSeriesLabels(a.labels, a.state)), forState: keyed(forStateLabels(a.labels)) }));
          else if (o.state !== a.state) (o.state = a.state), (o.alerts = keyed(alertSeriesLabels(a.labels, a.state)));
          series.push({ metric: o.alerts, t: ts, f: 1 });
          // Seconds like Prometheus, but with the millisecond fraction kept (Prometheus writes whole
          // seconds): a restart then restores activeAt exactly; readers that truncate still work.
          series.push({ metric: o.forState, t: ts, f: a.activeAt / 1000 });
        }
      });
      if (ctx.limit > 0 && numActive > ctx.limit) {
        this.active.clear();
        throw new Error(`exceeded limit of ${ctx.limit} with ${numActive} alerts`);
      }
      const toSend = this.collectToSend(ts, ctx.interval);
      this.rec.record(ts, monoMs() - start, series.length);
      return { series, toSend };
    } catch (e) {
      const msg = errMessage(e);
      this.logger.warn('alerting rule evaluation failed', { rule: this.name, err: msg });
      this.rec.record(ts, monoMs() - start, 0, msg);
      return { series: [] };
    }
  }

  /**
   * Output labels, key and annotations of the alert for input sample `s`: template expansions are
   * reused from the previous evaluation of the same series when their inputs are unchanged (see
   * {@link templateDependence}), and so are the label set and annotations when no text changed.
   * Synchronous (no closure, no promise, no per-series arrays unless a text changed) until an
   * expansion returns a promise; the rest then continues in {@link seriesMemoAsync}.
   */
  private seriesMemo(s: Sample, ctx: EvalContext, topts: ExpandOptions): SeriesMemo | Promise<SeriesMemo> {
    const hash = seriesHash(s.metric);
    const prev = this.memo.find(hash, s.metric);
    const sameValue = prev !== undefined && Object.is(prev.value, s.f);
    const vals = this.scratch;
    let data: TemplateData | undefined;
    for (let i = 0; i < this.tpls.length; i++) {
      const t = this.tpls[i]!;
      if (prev !== undefined && (t.dep === 'labels' || (t.dep === 'value' && sameValue))) {
        vals[i] = prev.vals[i]!;
        continue;
      }
      data ??= templateData(s, ctx);
      const x = this.templater.expand(this.tplName, t.text, data, topts);
      if (typeof x !== 'string') return this.seriesMemoAsync(s, hash, prev, vals.slice(), i, x, data, topts);
      vals[i] = x;
    }
    return this.storeMemo(s, hash, prev, vals);
  }

  /** {@link seriesMemo} from template `i` on, whose expansion `pending` is under way. */
  private async seriesMemoAsync(
    s: Sample,
    hash: number,
    prev: SeriesMemo | undefined,
    vals: string[],
    i: number,
    pending: Promise<string>,
    data: TemplateData,
    topts: ExpandOptions,
  ): Promise<SeriesMemo> {
    const sameValue = prev !== undefined && Object.is(prev.value, s.f);
    vals[i] = await pending;
    for (i++; i < this.tpls.length; i++) {
      const t = this.tpls[i]!;
      if (prev !== undefined && (t.dep === 'labels' || (t.dep === 'value' && sameValue))) vals[i] = prev.vals[i]!;
      else vals[i] = await this.templater.expand(this.tplName, t.text, data, topts);
    }
    return this.storeMemo(s, hash, prev, vals);
  }

  /** Updates (or adds) the memo entry of `s` from the expansion results `vals` (may be scratch). */
  private storeMemo(s: Sample, hash: number, prev: SeriesMemo | undefined, vals: readonly string[]): SeriesMemo {
    const nl = this.labelTpls.length;
    let labelsSame = prev !== undefined;
    let annsSame = prev !== undefined;
    if (prev !== undefined) {
      for (let i = 0; i < vals.length; i++) {
        if (prev.vals[i] === vals[i]) continue;
        if (i < nl) labelsSame = false;
        else annsSame = false;
      }
    }
    let labels: Labels;
    let key: string;
    if (labelsSame) {
      labels = prev!.labels;
      key = prev!.key;
    } else {
      const b = new LabelsBuilder(s.metric).del(METRIC_NAME);
      for (let i = 0; i < nl; i++) b.set(this.labelTpls[i]!.name, vals[i]!);
      b.set(ALERT_NAME_LABEL, this.name);
      labels = b.labels();
      key = labelsKey(labels);
      rememberKey(labels, key);
    }
    const annotations: Labels = annsSame ? prev!.annotations : this.annTpls.map((t, i) => ({ name: t.name, value: vals[nl + i]! }));
    // Keep the previous array when nothing changed; otherwise copy (vals may be the scratch array).
    const kept = labelsSame && annsSame ? prev!.vals : vals.slice();
    if (prev === undefined) return this.memo.add(hash, { metric: s.metric, value: s.f, vals: kept, labels, key, annotations });
    this.memo.touch(prev);
    prev.metric = s.metric;
    prev.value = s.f;
    prev.vals = kept;
    prev.labels = labels;
    prev.key = key;
    prev.annotations = annotations;
    return prev;
  }

  /** Applies the resend policy; marks the returned alerts (copies) as sent at `ts`. */
  private collectToSend(ts: number, interval: number): Alert[] {
    const out: Alert[] = [];
    const delta = Math.max(this.resendDelay, interval);
    for (const a of this.active.values()) {
      if (!needsSending(a, ts, this.resendDelay)) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * delta;
      out.push({ ...a });
    }
    return out;
  }

  /** Pending and firing alerts (snapshots), for the API. */
  activeAlerts(): readonly Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) if (a.state !== 'inactive') out.push({ ...a });
    return out;
  }

  /** @internal All alerts held, including resolved ones kept for re-sending (live objects). */
  heldAlerts(): Alert[] {
    return [...this.active.values()];
  }

  /** State of the rule as the API shows it: firing > pending > inactive. */
  state(): AlertState {
    let s: AlertState = 'inactive';
    for (const a of this.active.values()) {
      if (a.state === 'firing') return 'firing';
      if (a.state === 'pending') s = 'pending';
    }
    return s;
  }


  /** Takes over alerts, health and recent evaluations of the rule it replaces (hot reload). */
  copyStateFrom(o: AlertingRule): void {
    this.rec.copyFrom(o.rec);
    for (const [k, a] of o.active) this.active.set(k, a);
    this.restored = this.restored || o.restored;
  }
}

/** Shallow equality of two string records. */
function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>> | undefined): boolean {
  if (b === undefined) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
  return true;
}

/** The data of the templates of alert input `s`. */
function templateData(s: Sample, ctx: EvalContext): TemplateData {
  return { labels: labelsToObject(s.metric), externalLabels: ctx.externalLabels, externalURL: ctx.externalURL, value: s.f };
}

/** `ls`, with its key remembered for the group's output bookkeeping. */
function keyed(ls: Labels): Labels {
  rememberKey(ls, labelsKey(ls));
  return ls;
}

/** A rule label or annotation with what its template depends on. */
interface TemplateSpec {
  readonly name: string;
  readonly text: string;
  readonly dep: TemplateDependence;
}

/**
 * The resend policy: firing alerts when they start firing and then every `resendDelay`
 * (with aligned evaluations: the first multiple of the interval ≥ resendDelay); resolved
 * alerts when they resolve and then likewise while they are retained. Pending: never.
 */
export function needsSending(a: Alert, ts: number, resendDelay: number): boolean {
  if (a.state === 'pending') return false;
  if (a.resolvedAt > a.lastSentAt) return true;
  return a.lastSentAt === 0 || ts - a.lastSentAt >= resendDelay;
}

/** Labels of the `ALERTS` series of an alert. */
export function alertSeriesLabels(labels: Labels, state: AlertState): Labels {
  return new LabelsBuilder(labels).set(METRIC_NAME, ALERTS_METRIC).set(ALERT_STATE_LABEL, state).labels();
}

/** Labels of the `ALERTS_FOR_STATE` series of an alert. */
export function forStateLabels(labels: Labels): Labels {
  return new LabelsBuilder(labels).set(METRIC_NAME, ALERTS_FOR_STATE_METRIC).labels();
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Prometheus's generator URL: `<externalURL>/graph?g0.expr=<expr>&g0.tab=1`. */
export function generatorURL(externalURL: string, expr: string): string {
  return `${externalURL.replace(/\/+$/, '')}/graph?g0.expr=${queryEscape(expr)}&g0.tab=1`;
}

/**
 * Prometheus's restore rule, with `downAt`/`lastV` from the last ALERTS_FOR_STATE sample:
 * - the alert was already firing (its `for` had elapsed when vigil went down): the old activeAt;
 * - less than the grace period of `for` was left: it fires a grace period after `ts`;
 * - otherwise: the old activeAt shifted by the downtime (pending time before the outage counts).
 * vigil's ALERTS_FOR_STATE keeps milliseconds (Prometheus works in whole seconds here).
 */
export function restoredActiveAt(hold: number, downAt: number, lastV: number, ts: number, gracePeriodMs: number): number {
  const activeAt = Math.round(lastV * 1000);
  const remaining = hold - (downAt - activeAt);
  if (remaining <= 0) return activeAt;
  if (remaining < gracePeriodMs) return ts + gracePeriodMs - hold;
  return activeAt + (ts - downAt);
}
