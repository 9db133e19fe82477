/**
 * Runs every PromQL test script of Prometheus (conformance/promql/*.test) through the engine
 * and fails when the pass count drops below the floor in conformance-floor.json.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ScriptRunner, type EvalOutcome } from './script/run.js';

const dir = fileURLToPath(new URL('../../../shared/conformance/promql/', import.meta.url));
const floor = JSON.parse(readFileSync(new URL('./conformance-floor.json', import.meta.url), 'utf8')) as { total: number; perFile: Record<string, number> };
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test'))
  .sort();

describe('PromQL conformance scripts', () => {
  it('passes at least the recorded floor', { timeout: 600_000 }, async () => {
    let total = 0;
    let evals = 0;
    const perFile: Record<string, number> = {};
    const lines: string[] = [];
    const failures: string[] = [];
    for (const f of files) {
      let outcomes: EvalOutcome[];
      try {
        outcomes = await new ScriptRunner().run(readFileSync(dir + f, 'utf8'));
      } catch (e) {
        lines.push(`${f}: script error ${(e as Error).message}`);
        perFile[f] = 0;
        continue;
      }
      const pass = outcomes.filter((o) => o.ok).length;
      perFile[f] = pass;
      total += pass;
      evals += outcomes.length;
      lines.push(`${f.padEnd(28)} ${String(pass).padStart(4)} / ${outcomes.length}`);
      for (const o of outcomes) if (!o.ok) failures.push(`${f}:${o.line} ${o.expr}\n    ${o.reason}`);
    }
    lines.push(`${'TOTAL'.padEnd(28)} ${String(total).padStart(4)} / ${evals}`);
    console.log(failures.length ? `failures (${failures.length}):\n${failures.join('\n')}` : 'no failures');
    console.log(lines.join('\n'));
    if (process.env['CONFORMANCE_WRITE_FLOOR']) {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(new URL('./conformance-floor.json', import.meta.url), JSON.stringify({ total, perFile }, null, 2) + '\n');
    }
    for (const [f, n] of Object.entries(floor.perFile)) expect(perFile[f] ?? 0, `pass count of ${f}`).toBeGreaterThanOrEqual(n);
    expect(total).toBeGreaterThanOrEqual(floor.total);
  });
});
