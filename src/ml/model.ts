/**
 * The ML contract: what a predictive rule needs from a model (its kind, window length, step,
 * horizons, quantiles, outputs), the typed load error, and the batched session interface.
 * Implementations: `session.ts` (onnxruntime-node). Metadata lives in the ONNX file's
 * `metadata_props` under `vigil.*` keys, so a model file is self-describing.
 */
import { VigilError } from '../model/errors.js';

/** The kinds of model a predictive rule can use. */
export type ModelKind = 'forecaster' | 'anomaly';

/** Metadata keys written into every vigil model. */
export const META = {
  kind: 'vigil.kind',
  window: 'vigil.window',
  stepMs: 'vigil.step_ms',
  horizons: 'vigil.horizons',
  quantiles: 'vigil.quantiles',
  normalization: 'vigil.normalization',
  likelihood: 'vigil.likelihood',
  trainedOn: 'vigil.trained_on',
} as const;

/** Name of the single input of every vigil model: float32 `[N, window]`, oldest value first. */
export const INPUT_NAME = 'window';

/** Output names by model kind. */
export const OUTPUT_NAMES: Readonly<Record<ModelKind, readonly string[]>> = {
  /** `forecast`: `[N, H, Q]` values at each horizon (steps ahead) and quantile. */
  forecaster: ['forecast'],
  /** `yhat`: `[N, 1]` predicted current value; `error`: `[N, 1]` (actual − yhat) / scale; `scale`: `[N, 1]`. */
  anomaly: ['yhat', 'error', 'scale'],
};

/** Opset range (default domain) vigil's runtime accepts. */
export const SUPPORTED_OPSETS = { min: 13, max: 21 } as const;

/** Parameters of the anomaly likelihood post-step (stored in `vigil.likelihood`). */
export interface LikelihoodParams {
  /** Points averaged for the short-term error (Numenta: 10). */
  readonly shortWindow: number;
  /** Points of short-term averages kept as the reference distribution. */
  readonly longWindow: number;
  /** Points seen before any score is produced (a learning period). */
  readonly learningPeriod: number;
  /** Tail probability mapped to score 1 (score = log(p) / log(threshold)). */
  readonly thresholdTail: number;
  /** Points after a score ≥ 1 during which scores are capped below 1 (one alert per event). */
  readonly refractory: number;
}

/** What a model file declares about itself (decoded from its metadata and signature). */
export interface ModelInfo {
  readonly kind: ModelKind;
  /** Window length in points (the model input is `[N, window]`). */
  readonly window: number;
  /** Sampling step the model was trained for (ms). */
  readonly stepMs: number;
  /** Forecast horizons in steps (forecaster only; empty otherwise). */
  readonly horizons: readonly number[];
  /** Quantile levels of the forecast band (forecaster only). */
  readonly quantiles: readonly number[];
  /** Likelihood parameters (anomaly only). */
  readonly likelihood?: LikelihoodParams;
  readonly irVersion: number;
  readonly opset: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** What a rule expects of the model it names; checked at load. Omitted fields are not checked. */
export interface ModelExpectation {
  readonly kind: ModelKind;
  readonly window?: number;
  readonly stepMs?: number;
  /** Horizons (steps) the rule asks for; each must be produced by the model. */
  readonly horizons?: readonly number[];
  /** Quantiles the rule asks for; each must be produced by the model. */
  readonly quantiles?: readonly number[];
}

/** Why a model could not be loaded. */
export type ModelLoadReason = 'missing' | 'too-large' | 'corrupt' | 'opset' | 'mismatch';

/** A model that cannot be used: missing, corrupt, or not what the rule expects. */
export class ModelLoadError extends VigilError {
  override name = 'ModelLoadError';
  constructor(
    message: string,
    readonly reason: ModelLoadReason,
    readonly source: string,
    options?: ErrorOptions,
  ) {
    super(`model ${source}: ${message}`, options);
  }
}

/** Outputs of one batched run, by output name; each is row-major with `n` rows. */
export type ModelOutputs = Readonly<Record<string, Float32Array>>;

/** A loaded, validated model. */
export interface ModelSession {
  readonly info: ModelInfo;
  readonly source: string;
  /**
   * One inference for `n` series: `input` is `[n, window]` row-major float32 (oldest first).
   * Rows must be finite (callers drop series with gaps or too little history beforehand).
   */
  run(input: Float32Array, n: number): Promise<ModelOutputs>;
  /** Releases the native session. */
  close(): Promise<void>;
}
