/**
 * Generated k8s/node-like data for the rules corpus: for every selector in the rules, series
 * carrying that selector's equality matchers plus common target labels. Used by the corpus test
 * and by bench/rules-corpus.bench.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRIC_NAME, labelsFrom, type Labels } from '../../src/model/labels.js';
import type { Expr, VectorSelector } from '../../src/promql/parser/ast.js';
import { parseExpr } from '../../src/promql/parser/index.js';
import type { RuleGroupConfig } from '../../src/rules/rule.js';

/** The rules corpus directory. */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/rules-corpus/', import.meta.url));

/** All rule files of the corpus (yml/yaml, recursively), sorted. */
export function corpusFiles(dir = CORPUS_DIR): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...corpusFiles(p));
    else if (/\.ya?ml$/.test(n)) out.push(p);
  }
  return out;
}

function walk(e: Expr, f: (vs: VectorSelector) => void): void {
  switch (e.kind) {
    case 'VectorSelector':
      return f(e);
    case 'MatrixSelector':
      return f(e.vectorSelector);
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return walk(e.expr, f);
    case 'BinaryExpr':
      walk(e.lhs, f);
      return walk(e.rhs, f);
    case 'AggregateExpr':
      if (e.param) walk(e.param, f);
      return walk(e.expr, f);
    case 'Call':
      for (const a of e.args) walk(a, f);
      return;
    default:
      return;
  }
}

/** Metric name → distinct equality-matcher label sets of the selectors naming it. */
export function corpusSelectors(groups: readonly RuleGroupConfig[]): Map<string, Record<string, string>[]> {
  const out = new Map<string, Map<string, Record<string, string>>>();
  const recorded = new Set<string>();
  for (const g of groups) for (const r of g.rules) if (r.kind === 'recording') recorded.add(r.record);
  for (const g of groups) {
    for (const r of g.rules) {
      let e: Expr;
      try {
        e = parseExpr(r.expr);
      } catch {
        continue;
      }
      walk(e, (vs) => {
        const nameM = vs.matchers.find((m) => m.name === METRIC_NAME && m.type === '=');
        if (!nameM || recorded.has(nameM.value) || nameM.value === 'ALERTS') return;
        const eq: Record<string, string> = {};
        for (const m of vs.matchers) if (m.type === '=' && m.name !== METRIC_NAME && m.value !== '') eq[m.name] = m.value;
        const k = JSON.stringify(Object.entries(eq).sort());
        let sets = out.get(nameM.value);
        if (!sets) out.set(nameM.value, (sets = new Map()));
        sets.set(k, eq);
      });
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()]]));
}

const LE = ['0.005', '0.05', '0.5', '1', '5', '+Inf'];

/** A generated series: labels and a value function of (ms since start). */
export interface GenSeries {
  readonly labels: Labels;
  readonly value: (dtMs: number) => number;
}

/**
 * Generates about `perSelector` targets per selector label set. Counters (`_total`, `_count`,
 * `_sum`, `_bucket`) increase; buckets are cumulative over `le`; other metrics are gauges.
 */
export function generateSeries(selectors: Map<string, Record<string, string>[]>, perSelector: number): GenSeries[] {
  const out: GenSeries[] = [];
  const seen = new Set<string>();
  for (const [name, sets] of selectors) {
    const counter = /(_total|_count|_sum|_bucket)$/.test(name);
    const bucket = name.endsWith('_bucket');
    for (const eq of sets) {
      for (let k = 0; k < perSelector; k++) {
        const base: Record<string, string> = {
          __name__: name,
          job: 'node-exporter',
          instance: `10.0.${k >> 8}.${k & 255}:9100`,
          namespace: `ns-${k % 3}`,
          pod: `pod-${k}`,
          container: 'app',
          node: `node-${k % 50}`,
          cluster: 'c1',
          device: `sd${String.fromCharCode(97 + (k % 3))}`,
          mountpoint: '/',
          fstype: 'ext4',
          // join keys of group_left/group_right rules: one target per value
          set: `rs-${k}`,
          partition: String(k),
          topic: `topic-${k}`,
          ...eq,
        };
        for (const le of bucket ? LE : [undefined]) {
          const ls = { ...base, ...(le !== undefined ? { le } : {}) };
          const key = JSON.stringify(Object.entries(ls).sort());
          if (seen.has(key)) continue;
          seen.add(key);
          const li = le === undefined ? 1 : LE.indexOf(le) + 1;
          const rate = ((k % 7) + 1) * li;
          const level = 0.3 + ((k * 37) % 60) / 100;
          out.push({ labels: labelsFrom(ls), value: counter ? (dt) => (rate * dt) / 1000 : () => level });
        }
      }
    }
  }
  return out;
}
