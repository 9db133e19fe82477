import { describe, expect, it } from 'vitest';
import { loadRuleFiles } from '../../src/config/rule-files.js';
import { FakeClock } from '../../src/model/clock.js';
import { RuleGroup } from '../../src/rules/group.js';
import { goTemplater } from '../../src/rules/templating.js';
import { corpusFiles, corpusSelectors, generateSeries, CORPUS_DIR } from './corpus-data.js';
import { deps, M, newHead, S, T0 } from './helpers.js';

/**
 * Rules that error on generated data, with the reason. They error in Prometheus on the same
 * data as well (the generated targets are not unique where real exporters are).
 */
const EXPECTED_ERRORS: Record<string, RegExp> = {};

/**
 * Load errors that Prometheus reports as well: `"\\."` is not a valid escape in a PromQL
 * double-quoted string (promtool: `unknown escape sequence U+002E '.'`); the upstream rule
 * needs a backtick or `\\\\.`. The rest of that file loads.
 */
const EXPECTED_LOAD_ERRORS = [/kubestate-exporter\.yml:326: group "KubestateExporter", rule 41 "KubernetesVersionMismatch": could not parse expression: 1:104: parse error: unknown escape sequence U\+002E '\.'/];

describe('rules corpus', () => {
  it('every file loads and every rule evaluates without error over generated data', async () => {
    const files = corpusFiles();
    expect(files.length).toBeGreaterThan(50);
    const { groups, errors } = await loadRuleFiles(files, CORPUS_DIR);
    const unexpected = errors.map((e) => e.message).filter((m) => !EXPECTED_LOAD_ERRORS.some((re) => re.test(m)));
    expect(unexpected).toEqual([]);
    expect(errors).toHaveLength(EXPECTED_LOAD_ERRORS.length);
    const nRules = groups.reduce((n, g) => n + g.rules.length, 0);
    expect(nRules).toBeGreaterThan(1500);

    const clock = new FakeClock(T0 + 2 * 3600 * S);
    const head = newHead(clock);
    const series = generateSeries(corpusSelectors(groups), 2);
    const start = T0 - 20 * M;
    for (let ts = start; ts <= T0; ts += 30 * S) {
      const app = head.appender();
      for (const s of series) app.append(0, s.labels, ts, s.value(ts - start));
      await app.commit();
    }
    const failures: string[] = [];
    let produced = 0;
    for (const cfg of groups) {
      const { deps: d } = deps(head, clock, { templater: goTemplater });
      const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
      await g.evalAt(T0);
      for (const r of g.rules()) {
        const err = r.lastError();
        if (err !== undefined && !EXPECTED_ERRORS[r.name]?.test(err)) failures.push(`${cfg.file.slice(CORPUS_DIR.length)} ${cfg.name}/${r.name}: ${err}`);
        produced += r.recent().at(-1)?.samples ?? 0;
      }
    }
    expect(failures).toEqual([]);
    expect(produced).toBeGreaterThan(1000);
  }, 60_000);
});
