/**
 * Runs a loaded anomaly model over NAB files exactly as an online detector: row i is scored
 * from rows ≤ i only, once, in order. The model is stateless over its window, so all windows
 * of a file go through onnxruntime in large batches; the per-series online post-step
 * ({@link SeriesAnomalyState}) then consumes the errors in time order.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ModelSession } from '../model.js';
import { DEFAULT_DETECTOR, SeriesAnomalyState, type DetectorParams } from '../online.js';
import { silentProgress, type Progress } from '../train/progress.js';
import type { NabFile } from './corpus.js';

/** Rows per onnxruntime call. */
const BATCH_ROWS = 16384;

/** Normalised errors of every row of `values` (NaN for rows without a full window). */
export async function modelErrors(session: ModelSession, values: Float64Array): Promise<Float64Array> {
  const w = session.info.window;
  const n = values.length;
  const out = new Float64Array(n).fill(NaN);
  const first = w - 1;
  const buf = new Float32Array(Math.min(BATCH_ROWS, Math.max(0, n - first)) * w);
  for (let start = first; start < n; start += BATCH_ROWS) {
    const rows = Math.min(BATCH_ROWS, n - start);
    for (let r = 0; r < rows; r++) {
      const end = start + r;
      for (let i = 0; i < w; i++) buf[r * w + i] = values[end - w + 1 + i]!;
    }
    const res = await session.run(buf, rows);
    const err = res.error!;
    for (let r = 0; r < rows; r++) out[start + r] = err[r]!;
  }
  return out;
}

/** Scores (> 1 anomalous) of every row of one file. */
export async function scoreFile(session: ModelSession, file: NabFile, params: DetectorParams = DEFAULT_DETECTOR): Promise<Float64Array> {
  const errs = await modelErrors(session, file.values);
  const st = new SeriesAnomalyState(params);
  const out = new Float64Array(file.values.length);
  for (let i = 0; i < out.length; i++) out[i] = st.update(file.values[i]!, errs[i]!);
  return out;
}

/** Maps a score (> 1 anomalous, unbounded) into NAB's [0, 1] range monotonically (1 → 0.5). */
export function toNabScore(s: number): number {
  return s > 0 ? s / (1 + s) : 0;
}

/** Scores every file; returns NAB-range scores per file (same order). */
export async function scoreCorpusWithModel(
  session: ModelSession,
  files: readonly NabFile[],
  params: DetectorParams = DEFAULT_DETECTOR,
  progress: Progress = silentProgress,
): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let i = 0; i < files.length; i++) {
    const s = await scoreFile(session, files[i]!, params);
    out.push(s.map(toNabScore));
    progress.update(i + 1, files.length);
  }
  return out;
}

/** Writes `DIR/<category>/<name>.csv` (timestamp,value,anomaly_score) in NAB's results layout. */
export function dumpResults(dir: string, files: readonly NabFile[], scores: readonly Float64Array[]): void {
  files.forEach((f, k) => {
    const path = join(dir, f.name);
    mkdirSync(dirname(path), { recursive: true });
    const s = scores[k]!;
    const lines = ['timestamp,value,anomaly_score'];
    for (let i = 0; i < f.values.length; i++) lines.push(`${f.rawTimestamps[i]},${f.values[i]},${s[i]}`);
    writeFileSync(path, lines.join('\n') + '\n');
  });
}
