/**
 * Validation of the predictive rule kinds of a rule file (`forecast:` and `anomaly:`, a vigil
 * extension), called by the rule-file parser with its YAML helpers, and the model check of
 * `vigil check rules` (the named model exists, is a valid vigil ONNX model and matches the rule:
 * kind, window = lookback / step, step, horizons, quantiles).
 */
import { isSeq } from 'yaml';
import { RetrainScheduler } from '../ml/retrain.js';
import { checkModelFile, resolveModelPath } from './predictive-models.js';
import type { AnomalyRuleConfig, ForecastRuleConfig } from './rule.js';

/** Maximum points of a predictive rule's window (`lookback / step`). */
export const MAX_PREDICTIVE_POINTS = 11_000;
/** Maximum horizons or quantiles of a forecast rule. */
export const MAX_FORECAST_LIST = 32;

/** A YAML value with the line of its key. */
export interface Entry {
  readonly node: unknown;
  readonly line: number;
}

/** The rule-file parser's helpers this module uses. */
export interface YamlHelpers {
  /** A scalar as a string (numbers and booleans stringified), else undefined. */
  str(v: Entry | undefined): string | undefined;
  /** A duration in ms (reports a bad one through `err` and returns 0). */
  duration(v: Entry, what: string, err: (line: number, msg: string) => void): number;
  scalarValue(n: unknown): unknown;
  lineOf(n: unknown, fallback?: number): number;
}

/** A predictive rule's model reference, for the model check of `checkRuleFiles`. */
export interface ModelRef {
  readonly rule: ForecastRuleConfig | AnomalyRuleConfig;
  /** Line of the `model:` key. */
  readonly line: number;
  readonly group: string;
  readonly index: number;
}

/** What the caller already validated. */
export interface PredictiveCommon {
  readonly expr: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly file: string;
  readonly ruleLine: number;
  /** True when an error was already reported for this rule. */
  readonly bad: () => boolean;
}

/** A positive duration field of a predictive rule. */
function requiredDuration(h: YamlHelpers, m: ReadonlyMap<string, Entry>, key: string, ruleLine: number, err: (line: number, msg: string) => void): number {
  const v = m.get(key);
  if (!v) {
    err(ruleLine, `field '${key}' must be set in a predictive rule`);
    return 0;
  }
  const d = h.duration(v, key, err);
  if (d <= 0 && h.str(v) !== undefined) err(v.line, `${key}: must be greater than 0`);
  return d;
}

/**
 * Validates the predictive part of a forecast/anomaly rule (the rule's mapping `m`); reports
 * problems through `err` and returns the config when the rule is valid.
 */
export function parsePredictive(
  h: YamlHelpers,
  m: ReadonlyMap<string, Entry>,
  kind: 'forecast' | 'anomaly',
  nameV: Entry,
  c: PredictiveCommon,
  err: (line: number, msg: string) => void,
): ForecastRuleConfig | AnomalyRuleConfig | undefined {
  const { ruleLine } = c;
  const name = h.str(nameV);
  if (name === undefined || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) err(nameV.line, `invalid ${kind} rule name: ${JSON.stringify(name ?? '')}`);
  for (const f of ['for', 'keep_firing_for', 'annotations']) {
    const v = m.get(f);
    if (v) err(v.line, `invalid field '${f}' in ${kind} rule`);
  }
  const modelV = m.get('model');
  const model = h.str(modelV);
  if (!modelV) err(ruleLine, `field 'model' must be set in ${kind} rule`);
  else if (model === undefined || model.trim() === '' || model.length > 4096 || model.includes('\0')) err(modelV.line, 'model: expected a model name or a path to an .onnx file');
  const lookback = requiredDuration(h, m, 'lookback', ruleLine, err);
  const step = requiredDuration(h, m, 'step', ruleLine, err);
  const stepText = h.str(m.get('step'));
  if (lookback > 0 && step > 0) {
    const lb = m.get('lookback')!;
    if (lookback % step !== 0) err(lb.line, `lookback: ${h.str(lb)} is not a multiple of step ${stepText}`);
    else if (lookback / step < 2) err(lb.line, 'lookback: must span at least 2 steps');
    else if (lookback / step > MAX_PREDICTIVE_POINTS) err(lb.line, `lookback: ${lookback / step} points (lookback / step) is more than ${MAX_PREDICTIVE_POINTS}`);
  }
  let retrain: string | undefined;
  const rV = m.get('retrain');
  if (rV) {
    retrain = h.str(rV);
    try {
      RetrainScheduler.validate(retrain ?? '');
    } catch (e) {
      err(rV.line, `retrain: ${(e as Error).message}`);
    }
  }
  const horizonsV = m.get('horizons');
  const quantilesV = m.get('quantiles');
  const horizons: number[] = [];
  const quantiles: number[] = [];
  if (kind === 'anomaly') {
    if (horizonsV) err(horizonsV.line, "invalid field 'horizons' in anomaly rule");
    if (quantilesV) err(quantilesV.line, "invalid field 'quantiles' in anomaly rule");
  } else {
    const list = (v: Entry | undefined, key: string): Entry[] | undefined => {
      if (!v) {
        err(ruleLine, `field '${key}' must be set in forecast rule`);
        return undefined;
      }
      if (!isSeq(v.node) || v.node.items.length === 0) {
        err(v.line, `${key}: expected a non-empty list`);
        return undefined;
      }
      if (v.node.items.length > MAX_FORECAST_LIST) {
        err(v.line, `${key}: at most ${MAX_FORECAST_LIST} entries`);
        return undefined;
      }
      return v.node.items.map((n) => ({ node: n, line: h.lineOf(n, v.line) }));
    };
    for (const e of list(horizonsV, 'horizons') ?? []) {
      const d = h.duration(e, 'horizons', err);
      const text = h.str(e);
      if (text === undefined) continue;
      if (d <= 0) err(e.line, `horizons: ${text} must be greater than 0`);
      else if (step > 0 && d % step !== 0) err(e.line, `horizons: ${text} is not a multiple of step ${stepText}`);
      else if (horizons.includes(d)) err(e.line, `horizons: ${text} is repeated`);
      else horizons.push(d);
    }
    for (const e of list(quantilesV, 'quantiles') ?? []) {
      const v = h.scalarValue(e.node);
      if (typeof v !== 'number' || !(v > 0 && v < 1)) err(e.line, `quantiles: ${JSON.stringify(v ?? null)} is not a number in (0, 1)`);
      else if (quantiles.includes(v)) err(e.line, `quantiles: ${v} is repeated`);
      else quantiles.push(v);
    }
  }
  if (c.bad() || c.expr === undefined || name === undefined || model === undefined) return undefined;
  const pos = { file: c.file, line: ruleLine };
  const common = { expr: c.expr, model, lookback, step, ...(retrain !== undefined ? { retrain } : {}), labels: c.labels, pos };
  return kind === 'forecast' ? { kind, forecast: name, ...common, horizons, quantiles } : { kind, anomaly: name, ...common };
}

/** A model reference that failed the check. */
export interface BadModelRef {
  readonly ref: ModelRef;
  /** Rule name. */
  readonly name: string;
  /** What is wrong (`model: ...`). */
  readonly detail: string;
  readonly cause: unknown;
}

/** Checks the models of predictive rules (present, valid ONNX, matching the rule); one entry per bad reference. */
export async function checkModelRefs(refs: readonly ModelRef[], modelDir: string): Promise<BadModelRef[]> {
  const out: BadModelRef[] = [];
  for (const ref of refs) {
    const rc = ref.rule;
    const name = rc.kind === 'forecast' ? rc.forecast : rc.anomaly;
    const path = resolveModelPath(rc.model, modelDir);
    try {
      await checkModelFile(path, rc);
    } catch (e) {
      const reason = (e as { reason?: string }).reason;
      const what = reason === 'missing' ? `unknown model ${JSON.stringify(rc.model)} (no file ${path})` : (e as Error).message;
      out.push({ ref, name, detail: `model: ${what}`, cause: e });
    }
  }
  return out;
}
