/**
 * Runs every PromQL test script twice, against the in-memory test storage and against a real
 * Head holding the same data, and requires every eval that passes on the former to pass on the
 * latter: the head's read path (postings, chunk decoding, latest-sample fast path) must not
 * change any result.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ScriptRunner } from './script/run.js';

const dir = fileURLToPath(new URL('../../../shared/conformance/promql/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.test'))
  .sort();

describe('PromQL conformance scripts on the head', () => {
  it('every eval passing on the memory storage also passes on the head', { timeout: 600_000 }, async () => {
    const regressions: string[] = [];
    let passedMem = 0;
    let passedHead = 0;
    for (const f of files) {
      const text = readFileSync(dir + f, 'utf8');
      const mem = await new ScriptRunner().run(text);
      const head = await new ScriptRunner(undefined, true).run(text);
      expect(head.length, f).toBe(mem.length);
      mem.forEach((m, i) => {
        const h = head[i]!;
        if (m.ok) passedMem++;
        if (h.ok) passedHead++;
        if (m.ok && !h.ok) regressions.push(`${f}:${m.line} ${m.expr}\n    ${h.reason}`);
      });
    }
    console.log(`memory storage ${passedMem}, head ${passedHead}`);
    expect(regressions, regressions.join('\n')).toEqual([]);
    expect(passedMem).toBeGreaterThan(1500);
  });
});
