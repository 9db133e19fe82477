/** Small fakes for the web API tests (storage, engine, selector parser, formatter). */
import { labelsFrom, labelsToObject, type Labels } from '../../src/model/labels.js';
import { matchesAll, newMatcher, type Matcher, type MatchType } from '../../src/model/matchers.js';
import type { MetricMetadata } from '../../src/model/samples.js';
import type { Value } from '../../src/promql/engine/values.js';
import type { MetadataReader, Querier, Queryable, Series } from '../../src/storage/interface.js';
import type { ApiQueryResult, QueryEngine } from '../../src/web/types.js';

/** Parses `name`, `name{a="b",c=~"d"}` or `{...}` (test-only, no escapes). */
export function fakeParseMatchers(s: string): Matcher[] {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$/.exec(s.trim());
  if (!m || (m[1] === undefined && m[2] === undefined)) {
    const e = new Error(`1:1: parse error: unexpected input ${JSON.stringify(s)}`);
    e.name = 'ParseError';
    throw e;
  }
  const out: Matcher[] = [];
  if (m[1]) out.push(newMatcher('=', '__name__', m[1]));
  for (const part of (m[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const pm = /^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*$/.exec(part);
    if (!pm) {
      const e = new Error(`parse error in ${JSON.stringify(part)}`);
      e.name = 'ParseError';
      throw e;
    }
    out.push(newMatcher(pm[2] as MatchType, pm[1]!, pm[3]!));
  }
  return out;
}

/** An in-memory Queryable over fixed series (each with one sample per listed time). */
export class FakeStorage implements Queryable, MetadataReader {
  readonly series: { labels: Labels; t: number[] }[];
  readonly md = new Map<string, MetricMetadata[]>();
  queriers: { mint: number; maxt: number; closed: boolean }[] = [];

  constructor(series: { labels: Record<string, string>; t: number[] }[]) {
    this.series = series.map((s) => ({ labels: labelsFrom(s.labels), t: s.t }));
  }

  querier(mint: number, maxt: number): Querier {
    const rec = { mint, maxt, closed: false };
    this.queriers.push(rec);
    const inRange = () => this.series.filter((s) => s.t.some((t) => t >= mint && t <= maxt));
    const names = (ms?: readonly Matcher[]) => inRange().filter((s) => !ms || matchesAll(s.labels, ms));
    return {
      select: (p) =>
        names(p.matchers).map(
          (s): Series => ({
            labels: s.labels,
            samples: () => ({ t: Float64Array.from(s.t), v: new Float64Array(s.t.length), histograms: [] }),
          }),
        ),
      labelNames: (ms) => [...new Set(names(ms).flatMap((s) => s.labels.map((l) => l.name)))].sort(),
      labelValues: (name, ms) => [...new Set(names(ms).map((s) => labelsToObject(s.labels)[name]).filter((v): v is string => v !== undefined))].sort(),
      close: () => {
        rec.closed = true;
      },
    };
  }

  metadata(metric?: string, limit?: number): Map<string, MetricMetadata[]> {
    const out = new Map<string, MetricMetadata[]>();
    for (const [k, v] of this.md) {
      if (metric && k !== metric) continue;
      if (limit && out.size >= limit) break;
      out.set(k, v);
    }
    return out;
  }

  exemplars(): never[] {
    return [];
  }
}

/** Records calls; answers with a scripted result or error. */
export class FakeEngine implements QueryEngine {
  calls: { kind: 'instant' | 'range'; query: string; ts?: number; start?: number; end?: number; step?: number; signal?: AbortSignal }[] = [];
  next: (() => Promise<ApiQueryResult>) | undefined;

  private answer(value: Value): Promise<ApiQueryResult> {
    const n = this.next;
    this.next = undefined;
    return n ? n() : Promise.resolve({ value, warnings: [], infos: [] });
  }

  instantQuery(_q: Queryable, query: string, ts: number, opts?: { signal?: AbortSignal }): Promise<ApiQueryResult> {
    this.calls.push({ kind: 'instant', query, ts, signal: opts?.signal });
    return this.answer({ kind: 'scalar', t: ts, v: 42 });
  }

  rangeQuery(_q: Queryable, query: string, start: number, end: number, step: number, opts?: { signal?: AbortSignal }): Promise<ApiQueryResult> {
    this.calls.push({ kind: 'range', query, start, end, step, signal: opts?.signal });
    return this.answer({ kind: 'matrix', matrix: [] });
  }
}

/** Minimal Prometheus JSON formatting for scalars and float vectors/matrices. */
export function fakeFormatValue(v: Value): unknown {
  switch (v.kind) {
    case 'scalar':
    case 'string':
      return { resultType: v.kind, result: [v.t / 1000, String(v.v)] };
    case 'vector':
      return { resultType: 'vector', result: v.vector.map((s) => ({ metric: labelsToObject(s.metric), value: [s.t / 1000, String(s.f)] })) };
    case 'matrix':
      return { resultType: 'matrix', result: v.matrix.map((s) => ({ metric: labelsToObject(s.metric), values: s.floats.map((p) => [p.t / 1000, String(p.f)]) })) };
  }
}
