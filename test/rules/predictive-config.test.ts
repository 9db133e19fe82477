/**
 * Rule files with the predictive kinds: parsing into configs, and `vigil check rules` errors
 * with file/line/group/rule (syntax, durations, horizons vs step, quantiles, models).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkRuleFiles, parseRuleFileText } from '../../src/config/rule-files.js';
import { ruleIdentity } from '../../src/rules/group.js';
import type { AnomalyRuleConfig, ForecastRuleConfig } from '../../src/rules/rule.js';

const MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

const GOOD = `groups:
  - name: pred
    rules:
      - forecast: node_filesystem_avail_bytes:forecast
        expr: node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"}
        model: forecaster
        lookback: 24h
        step: 5m
        horizons: [1h, 4h, 24h]
        quantiles: [0.1, 0.5, 0.9]
        retrain: "0 3 * * *"
        labels: { team: infra }
      - anomaly: http_p99_latency:anomaly_score
        expr: histogram_quantile(0.99, sum by (le, service) (rate(http_request_duration_seconds_bucket[5m])))
        model: anomaly
        lookback: 12h
        step: 1m
      - record: x
        expr: up
`;

/** One group with one rule body (indented under `- `). */
function file(rule: string): string {
  return `groups:\n  - name: g\n    rules:\n      - ${rule.trim().split('\n').join('\n        ')}\n`;
}

function errorsOf(text: string): string[] {
  return parseRuleFileText(text, 'p.yaml').errors.map((e) => e.message);
}

const FORECAST = (over: Record<string, string> = {}): string => {
  const f: Record<string, string> = {
    forecast: 'm:forecast',
    expr: 'm',
    model: 'forecaster',
    lookback: '24h',
    step: '5m',
    horizons: '[1h, 4h]',
    quantiles: '[0.1, 0.5, 0.9]',
    ...over,
  };
  return Object.entries(f)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
};

describe('predictive rule files', () => {
  it('parses forecast and anomaly rules into configs (durations in ms)', () => {
    const r = parseRuleFileText(GOOD, 'p.yaml');
    expect(r.errors).toEqual([]);
    const [f, a, rec] = r.groups[0]!.rules;
    expect(f).toMatchObject({
      kind: 'forecast',
      forecast: 'node_filesystem_avail_bytes:forecast',
      model: 'forecaster',
      lookback: 86_400_000,
      step: 300_000,
      horizons: [3_600_000, 14_400_000, 86_400_000],
      quantiles: [0.1, 0.5, 0.9],
      retrain: '0 3 * * *',
      labels: { team: 'infra' },
      pos: { file: 'p.yaml', line: 4 },
    } satisfies Partial<ForecastRuleConfig>);
    expect(a).toMatchObject({ kind: 'anomaly', anomaly: 'http_p99_latency:anomaly_score', model: 'anomaly', lookback: 43_200_000, step: 60_000 } satisfies Partial<AnomalyRuleConfig>);
    expect(rec!.kind).toBe('recording');
    expect(r.modelRefs.map((m) => m.line)).toEqual([6, 15]);
  });

  it('rule identity (reload state carry-over) changes with the model, step and horizons', () => {
    const f = parseRuleFileText(GOOD, 'p.yaml').groups[0]!.rules[0] as ForecastRuleConfig;
    expect(ruleIdentity(f)).toBe(ruleIdentity({ ...f, pos: { file: 'other', line: 9 }, lookback: f.lookback }));
    expect(ruleIdentity(f)).not.toBe(ruleIdentity({ ...f, model: 'other' }));
    expect(ruleIdentity(f)).not.toBe(ruleIdentity({ ...f, horizons: [3_600_000] }));
  });

  it.each([
    [{ step: '0s' }, 'step: must be greater than 0'],
    [{ step: '5x' }, 'step: '],
    [{ lookback: '' }, "field 'lookback' must be set"],
    [{ lookback: '1h7m' }, 'lookback: 1h7m is not a multiple of step 5m'],
    [{ horizons: '[1h, 7m]' }, 'horizons: 7m is not a multiple of step 5m'],
    [{ horizons: '[1h, 1h]' }, 'horizons: 1h is repeated'],
    [{ horizons: '[]' }, 'horizons: expected a non-empty list'],
    [{ horizons: '' }, "field 'horizons' must be set in forecast rule"],
    [{ quantiles: '[0.5, 1]' }, 'quantiles: 1 is not a number in (0, 1)'],
    [{ quantiles: '[0, 0.5]' }, 'quantiles: 0 is not a number in (0, 1)'],
    [{ quantiles: '[abc]' }, 'quantiles: "abc" is not a number in (0, 1)'],
    [{ model: '' }, "field 'model' must be set in forecast rule"],
    [{ retrain: '"every day"' }, 'retrain: invalid retrain schedule "every day"'],
    [{ forecast: 'bad-name' }, 'invalid forecast rule name: "bad-name"'],
    [{ for: '5m' }, "invalid field 'for' in forecast rule"],
    [{ lookback: '1000d', step: '1s', horizons: '[1m]' }, 'more than 11000'],
  ])('forecast %j → %s', (over, msg) => {
    const errs = errorsOf(file(FORECAST(over)));
    expect(errs.length, errs.join('\n')).toBeGreaterThan(0);
    expect(errs.join('\n')).toContain(msg);
    // Every message is positioned: file, line, group and rule.
    expect(errs[0]).toMatch(/^p\.yaml:\d+: group "g", rule 1/);
  });

  it('anomaly rules reject forecast-only fields; other rules reject predictive fields', () => {
    expect(errorsOf(file('anomaly: a:score\nexpr: m\nmodel: anomaly\nlookback: 12h\nstep: 1m\nhorizons: [1h]'))).toEqual([
      'p.yaml:9: group "g", rule 1 "a:score": invalid field \'horizons\' in anomaly rule',
    ]);
    expect(errorsOf(file('record: r\nexpr: m\nmodel: anomaly'))).toEqual(["p.yaml:6: group \"g\", rule 1 \"r\": invalid field 'model' in recording rule (only in forecast and anomaly rules)"]);
    expect(errorsOf(file('alert: A\nforecast: f\nexpr: m'))[0]).toContain("only one of 'record', 'alert', 'forecast' and 'anomaly' must be set");
    expect(errorsOf(file('expr: m'))[0]).toContain("one of 'record' or 'alert' must be set"); // promtool's wording kept
  });

  it('vigil check rules: the models exist, are valid and match the rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-pred-'));
    writeFileSync(join(dir, 'garbage.onnx'), 'not a model at all');
    const path = join(dir, 'rules.yaml');
    writeFileSync(
      path,
      file(FORECAST({ model: 'nosuchmodel' })) +
        `  - name: g2
    rules:
      - ${FORECAST({ lookback: '6h' }).split('\n').join('\n        ')}
      - ${FORECAST({ model: 'anomaly' }).split('\n').join('\n        ')}
      - ${FORECAST({ model: `${dir}/garbage.onnx` }).split('\n').join('\n        ')}
      - ${FORECAST({ horizons: '[2h]' }).split('\n').join('\n        ')}
      - anomaly: a:score
        expr: m
        model: anomaly
        lookback: 30m
        step: 1m
      - anomaly: b:score
        expr: m
        model: anomaly
        lookback: 12h
        step: 1m
`,
    );
    const res = await checkRuleFiles([path], { modelDir: MODELS });
    const msgs = res.errors.map((e) => e.message.replace(dir, 'DIR'));
    expect(msgs).toHaveLength(6);
    expect(msgs[0]).toMatch(/rules\.yaml:6: group "g", rule 1 "m:forecast": model: unknown model "nosuchmodel" \(no file .*nosuchmodel\.onnx\)/);
    expect(msgs[1]).toMatch(/group "g2", rule 1 "m:forecast": model: .*input window is 288 points, the rule provides 72 \(lookback \/ step\)/);
    expect(msgs[2]).toMatch(/group "g2", rule 2 "m:forecast": model: .*is a anomaly model, the rule needs forecaster/);
    expect(msgs[3]).toMatch(/group "g2", rule 3 "m:forecast": model: .*is not an ONNX model/);
    expect(msgs[4]).toMatch(/group "g2", rule 4 "m:forecast": model: .*has no horizon of 24 steps \(has 12, 48, 288\)/);
    expect(msgs[5]).toMatch(/group "g2", rule 5 "a:score": model: .*needs a window of 64 points, the rule's lookback \/ step gives 30/);
    // Model checks can be turned off (e.g. a config check on a machine without the models).
    expect((await checkRuleFiles([path], { modelDir: MODELS, checkModels: false })).errors).toEqual([]);
  });

  it('the shipped pack passes vigil check rules with the shipped models', async () => {
    const res = await checkRuleFiles([fileURLToPath(new URL('../../rules/predictive.yaml', import.meta.url))], { modelDir: MODELS });
    expect(res.errors.map((e) => e.message)).toEqual([]);
    expect(res.rules).toBe(12);
  });
});
