/** Shared helpers of the rule tests: a real head + engine, data loading, raw sample reads. */
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom, type Labels } from '../../src/model/labels.js';
import { newMatcher } from '../../src/model/matchers.js';
import { Engine } from '../../src/promql/engine/index.js';
import { MemoryStorage } from '../fakes/memory-storage.js';
import type { GroupDeps } from '../../src/rules/group.js';
import { engineQueryFunc } from '../../src/rules/query-func.js';
import type { Alert, SeriesSink } from '../../src/rules/rule.js';
import type { Sample } from '../../src/promql/engine/values.js';
import { basicTemplater } from '../../src/rules/templating.js';

export const S = 1000;
export const M = 60 * S;
/** A timestamp aligned to 1h. */
export const T0 = 1_700_002_800_000;

/** Storage under test. The in-memory test storage (the real Head works the same way through the same interface). */
export type Head = MemoryStorage;

/** A fresh storage (the clock is kept for call-site symmetry with a real Head). */
export function newHead(_clock: FakeClock): Head {
  return new MemoryStorage();
}

/** Appends `series` at every `step` in [from, to] with values from `v(ts, i)`. */
export async function load(head: Head, series: Record<string, string>[], from: number, to: number, step: number, v: (ts: number, i: number) => number): Promise<void> {
  const ls = series.map((s) => labelsFrom(s));
  for (let ts = from; ts <= to; ts += step) {
    const app = head.appender();
    ls.forEach((l, i) => app.append(0, l, ts, v(ts, i)));
    await app.commit();
  }
}

/** Raw samples of the series with exactly these labels. */
export function raw(head: Head, labels: Record<string, string>): { t: number[]; v: number[] } {
  const want = labelsFrom(labels);
  const q = head.querier(-1e15, 1e15);
  try {
    const ss = q.select({ mint: -1e15, maxt: 1e15, matchers: want.map((l) => newMatcher('=', l.name, l.value)) }).filter((s) => s.labels.length === want.length);
    if (ss.length === 0) return { t: [], v: [] };
    const { t, v } = ss[0]!.samples();
    return { t: [...t], v: [...v] };
  } finally {
    q.close();
  }
}

/** A sink recording what was published. */
export class MemSink implements SeriesSink {
  readonly published = new Map<string, { ts: number; series: readonly Sample[] }>();
  readonly dropped: string[] = [];
  publish(groupKey: string, ts: number, series: readonly Sample[]): void {
    this.published.set(groupKey, { ts, series });
  }
  drop(groupKey: string): void {
    this.published.delete(groupKey);
    this.dropped.push(groupKey);
  }
}

/** Deps over a real head with a fake clock; notifications are collected in `notified`. */
export function deps(head: Head, clock: FakeClock, over: Partial<GroupDeps> = {}) {
  const notified: { alerts: Alert[]; url: string }[] = [];
  const sink = new MemSink();
  const d: GroupDeps = {
    query: engineQueryFunc(new Engine({ clock }), head),
    appendable: head,
    queryable: head,
    notify: (alerts, meta) => notified.push(...alerts.map((a) => ({ alerts: [a], url: meta.generatorURL(a) })).map((x) => ({ alerts: x.alerts, url: x.url }))),
    sink,
    clock,
    templater: basicTemplater,
    externalLabels: {},
    externalURL: 'http://vigil:9090',
    resendDelayMs: M,
    outageToleranceMs: 60 * M,
    gracePeriodMs: 10 * M,
    ...over,
  };
  return { deps: d, notified, sink };
}

export type { Labels };
