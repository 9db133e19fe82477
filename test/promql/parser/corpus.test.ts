/**
 * Corpus test: every eval expression of the Prometheus PromQL test scripts, every rule `expr:` of
 * the rule corpora, and the promql-compliance queries parse, and round-trip through the printer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { parseExpr, ParseError, prettyExpr, printExpr } from '../../../src/promql/parser/index.js';
import { SHARED, strip } from './helpers.js';

const shared = fileURLToPath(SHARED);
const EVAL_RE = /^\s*(eval(?:_fail|_ordered|_warn|_info)?)\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/;

interface EvalCase {
  file: string;
  line: number;
  expr: string;
  expectFail: boolean;
}

function evalCases(): EvalCase[] {
  const dir = join(shared, 'conformance/promql');
  const out: EvalCase[] = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.test')).sort()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    lines.forEach((l, i) => {
      const m = EVAL_RE.exec(l);
      if (!m) return;
      let expectFail = m[1] === 'eval_fail';
      for (let j = i + 1; j < lines.length && /^\s*expect\s/.test(lines[j]!); j++) {
        if (/^\s*expect\s+fail\b/.test(lines[j]!)) expectFail = true;
      }
      out.push({ file: f, line: i + 1, expr: m[2]!, expectFail });
    });
  }
  return out;
}

function roundTrips(q: string): void {
  const e = parseExpr(q);
  const printed = printExpr(e);
  expect(strip(parseExpr(printed)), `print: ${q} → ${printed}`).toEqual(strip(e));
  const pretty = prettyExpr(e);
  expect(strip(parseExpr(pretty)), `pretty: ${q} → ${pretty}`).toEqual(strip(e));
}

function ruleFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return ruleFiles(p);
    return /\.ya?ml$/.test(p) ? [p] : [];
  });
}

/** Rules in the corpus that real Prometheus rejects too (Go rejects the escape `\.` in a "..." string). */
const KNOWN_INVALID_RULES = [/kubestate-exporter\.yml$/];

describe('PromQL test-script corpus', () => {
  const cases = evalCases();

  it('has the expected number of eval lines', () => {
    expect(cases.length).toBe(2214);
  });

  it('every eval expression parses (expect-fail ones are recorded) and round-trips', () => {
    const failures: string[] = [];
    let parsed = 0;
    let failParsed = 0;
    let failRejected = 0;
    for (const c of cases) {
      try {
        roundTrips(c.expr);
        if (c.expectFail) failParsed++;
        else parsed++;
      } catch (e) {
        if (c.expectFail && e instanceof ParseError) failRejected++;
        else failures.push(`${c.file}:${c.line}: ${c.expr}: ${(e as Error).message}`);
      }
    }
    console.log(`promql test scripts: ${parsed} parsed; expect-fail: ${failParsed} parse (fail at evaluation), ${failRejected} rejected by the parser`);
    expect(failures).toEqual([]);
    expect(parsed + failParsed + failRejected).toBe(cases.length);
  });
});

describe('rule corpus', () => {
  it('every rule expr parses and round-trips', () => {
    let n = 0;
    let knownBad = 0;
    const failures: string[] = [];
    for (const f of ruleFiles(join(shared, 'rules-corpus'))) {
      for (const doc of YAML.parseAllDocuments(readFileSync(f, 'utf8'))) {
        const y = doc.toJS() as { groups?: unknown; spec?: { groups?: unknown } } | null;
        const groups = (y?.groups ?? y?.spec?.groups ?? []) as { rules?: { expr?: unknown }[] }[];
        for (const g of groups) {
          for (const r of g.rules ?? []) {
            if (r.expr === undefined) continue;
            n++;
            try {
              roundTrips(String(r.expr));
            } catch (e) {
              if (KNOWN_INVALID_RULES.some((re) => re.test(f)) && e instanceof ParseError) knownBad++;
              else failures.push(`${f}: ${String(r.expr)}: ${(e as Error).message}`);
            }
          }
        }
      }
    }
    console.log(`rule corpus: ${n} exprs, ${n - knownBad - failures.length} ok, ${knownBad} known-invalid`);
    expect(n).toBeGreaterThan(1500);
    expect(knownBad).toBeLessThanOrEqual(1);
    expect(failures).toEqual([]);
  });
});

describe('promql-compliance queries', () => {
  it('queries that should work parse; should_fail ones are counted', () => {
    const qs = JSON.parse(readFileSync(join(shared, 'conformance/promql-compliance/expanded-queries.json'), 'utf8')) as {
      query: string;
      should_fail: boolean;
    }[];
    const failures: string[] = [];
    let rejected = 0;
    for (const { query, should_fail } of qs) {
      try {
        roundTrips(query);
      } catch (e) {
        if (should_fail && e instanceof ParseError) rejected++;
        else failures.push(`${query}: ${(e as Error).message}`);
      }
    }
    console.log(`promql-compliance: ${qs.length} queries, ${rejected} should_fail rejected by the parser`);
    expect(qs.length).toBeGreaterThan(500);
    expect(failures).toEqual([]);
  });
});
