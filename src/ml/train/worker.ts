/** Worker-thread entry of `trainInWorker`: trains one model and posts its ONNX bytes back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerTrainRequest } from '../retrain.js';
import { ANOMALY_SPEC, FORECASTER_SPEC, encodeAnomaly, encodeForecaster } from './build.js';
import { trainForecaster } from './forecaster.js';
import { trainAnomaly } from './anomaly.js';

const req = workerData as WorkerTrainRequest;
try {
  let bytes: Uint8Array;
  if (req.kind === 'forecaster') {
    const w = trainForecaster({
      series: req.series,
      window: req.window ?? FORECASTER_SPEC.window,
      horizons: req.horizons ?? FORECASTER_SPEC.horizons,
      quantiles: req.quantiles ?? FORECASTER_SPEC.quantiles,
    });
    bytes = encodeForecaster(w, req.stepMs, `online refit on ${req.series.length} series`);
  } else {
    const w = trainAnomaly({ series: req.series, window: req.window ?? ANOMALY_SPEC.window, fitFraction: 1 });
    bytes = encodeAnomaly(w, req.stepMs, `online refit on ${req.series.length} series`);
  }
  parentPort?.postMessage({ bytes });
} catch (e) {
  parentPort?.postMessage({ error: e instanceof Error ? e.message : String(e) });
}
