import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelsCommand } from '../../cmd/models.js';
import { loadModel } from '../../src/ml/session.js';
import { loadNabCorpus } from '../../src/ml/nab/corpus.js';
import { scoreFile } from '../../src/ml/nab/run.js';
import { forecastRef } from '../../src/ml/graphs.js';
import { buildModels } from '../../src/ml/train/build.js';

const NAB = fileURLToPath(new URL('../../../shared/data/nab', import.meta.url));
const SUBSET = new Set(['artificialNoAnomaly/art_daily_small_noise.csv', 'realAWSCloudwatch/ec2_cpu_utilization_5f5533.csv', 'realKnownCause/machine_temperature_system_failure.csv']);
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'vigil-models-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!existsSync(NAB))('models build (NAB subset)', () => {
  it('is deterministic, writes loadable models and cards', async () => {
    const [a, b] = [tmp(), tmp()];
    const ra = await buildModels({ dataDir: NAB, outDir: a, filter: (n) => SUBSET.has(n) });
    await buildModels({ dataDir: NAB, outDir: b, filter: (n) => SUBSET.has(n) });
    for (const f of ['forecaster.onnx', 'anomaly.onnx', 'forecaster.md', 'anomaly.md']) {
      expect(readFileSync(join(a, f)).equals(readFileSync(join(b, f))), f).toBe(true);
    }
    expect(ra.forecaster.series).toBe(3);
    expect(readFileSync(join(a, 'forecaster.md'), 'utf8')).toMatch(/## How to rebuild/);

    const fc = await loadModel(join(a, 'forecaster.onnx'), { kind: 'forecaster', window: 288, horizons: [12, 48, 288], quantiles: [0.1, 0.5, 0.9] });
    const series = loadNabCorpus(NAB, (n) => SUBSET.has(n))[0]!.values; // art_daily_small_noise
    const win = Float32Array.from(series.subarray(1000, 1288));
    const out = (await fc.run(win, 1)).forecast!;
    const ref = forecastRef(ra.forecaster.weights, win);
    for (let k = 0; k < 9; k++) expect(Math.abs(out[k]! - ref[k]!)).toBeLessThan(1e-3 * (1 + Math.abs(ref[k]!)));
    // Bands are ordered and the 1 h median is close to the truth on this smooth series.
    for (let h = 0; h < 3; h++) expect(out[h * 3]!).toBeLessThanOrEqual(out[h * 3 + 2]!);
    const range = Math.max(...series) - Math.min(...series);
    expect(Math.abs(out[1]! - series[1287 + 12]!)).toBeLessThan(0.2 * range);
    await fc.close();

    const an = await loadModel(join(a, 'anomaly.onnx'), { kind: 'anomaly' });
    const f = loadNabCorpus(NAB, (n) => n === 'realKnownCause/machine_temperature_system_failure.csv')[0]!;
    const scores = await scoreFile(an, f);
    expect(scores).toHaveLength(f.values.length);
    expect(scores.every((s) => Number.isFinite(s) && s >= 0)).toBe(true);
    // The labelled failures must be found: at least one alert inside a known anomaly window.
    const inWindow = (i: number): boolean => f.windows.some(([w0, w1]) => f.t[i]! >= w0 && f.t[i]! <= w1);
    expect(scores.some((s, i) => s > 1 && inWindow(i))).toBe(true);
    await an.close();
  });

  it('vigil models build/help via the CLI entry', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), fetch };
    expect(await modelsCommand(['help'], io)).toBe(0);
    expect(out.join('')).toMatch(/eval --nab DIR/);
    expect(await modelsCommand(['frobnicate'], io)).toBe(1);
    expect(await modelsCommand(['eval'], io)).toBe(1);
    expect(err.join('')).toMatch(/need --nab DIR or --forecast DIR/);
    expect(await modelsCommand(['eval', '--nab', NAB, '--model', '/nonexistent/x.onnx'], io)).toBe(1);
    expect(err.join('')).toMatch(/file not found/);
  });
});
