import { describe, expect, it } from 'vitest';
import { Head } from '../../src/storage/head/index.js';
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom, labelsGet } from '../../src/model/labels.js';
import { newMatcher } from '../../src/model/matchers.js';
import { STALE_NAN } from '../../src/model/samples.js';
import { extractWindows, WindowCache } from '../../src/ml/windows.js';
import { forecastOutputs } from '../../src/ml/outputs.js';

const STEP = 60_000;
const T0 = 1_700_000_000_000;

async function head(): Promise<{ h: Head; clock: FakeClock; add: (k: number) => Promise<void> }> {
  const clock = new FakeClock(T0 + 100 * STEP);
  const h = new Head({ retentionMs: 86_400_000, clock });
  const add = async (k: number): Promise<void> => {
    const app = h.appender();
    app.append(0, labelsFrom({ __name__: 'm', s: 'a' }), T0 + k * STEP, k);
    app.append(0, labelsFrom({ __name__: 'm', s: 'b' }), T0 + k * STEP + 1000, 1000 + k); // 1 s late
    if (k >= 5) app.append(0, labelsFrom({ __name__: 'm', s: 'young' }), T0 + k * STEP, -k); // short history
    if (k !== 7) app.append(0, labelsFrom({ __name__: 'm', s: 'stale' }), T0 + k * STEP, k === 8 ? STALE_NAN : k);
    await app.commit();
  };
  for (let k = 0; k < 10; k++) await add(k);
  return { h, clock, add };
}

describe('window extraction', () => {
  it('resamples on the grid, skips series with short history or staleness', async () => {
    const { h } = await head();
    const b = extractWindows(h, { matchers: [newMatcher('=', '__name__', 'm')], end: T0 + 9 * STEP, stepMs: STEP, window: 8 });
    const names = b.labels.map((l) => labelsGet(l, 's'));
    expect(names.sort()).toEqual(['a', 'b']);
    expect(b.skipped).toBe(2);
    const rows = Object.fromEntries(b.labels.map((l, i) => [labelsGet(l, 's'), [...b.data.subarray(i * 8, i * 8 + 8)]]));
    expect(rows.a).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    // b's samples are 1 s after each grid point: the grid point sees the previous one.
    expect(rows.b).toEqual([1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008]);
  });

  it('the incremental cache gives the same windows as a full extraction', async () => {
    const { h, clock, add } = await head();
    const cache = new WindowCache();
    const m = [newMatcher('=', 's', 'a')];
    for (let k = 9; k < 14; k++) {
      if (k > 9) {
        clock.set(T0 + k * STEP);
        await add(k);
      }
      const o = { matchers: m, end: T0 + k * STEP, stepMs: STEP, window: 6 };
      const full = extractWindows(h, o);
      const inc = cache.extract(h, o);
      expect([...inc.data.subarray(0, 6)]).toEqual([...full.data.subarray(0, 6)]);
      expect(inc.labels).toEqual(full.labels);
    }
    expect(cache.size).toBe(1);
  });

  it('builds sorted forecast output series', () => {
    const out = forecastOutputs('x:forecast', [labelsFrom({ __name__: 'x', job: 'j', zone: 'z' })], Float32Array.from([1, 2, 3, 4]), ['1h', '4h'], ['0.1', '0.9']);
    expect(out.values).toEqual(Float64Array.from([1, 2, 3, 4]));
    expect(out.labels[3]!.map((l) => `${l.name}=${l.value}`)).toEqual(['__name__=x:forecast', 'horizon=4h', 'job=j', 'quantile=0.9', 'zone=z']);
  });
});
