/**
 * Loads vigil models with onnxruntime-node (CPU) and validates them against what a rule
 * expects: the file must exist and be bounded in size, decode as an ONNX `ModelProto`, declare a
 * supported opset, carry vigil metadata of the expected kind, take one float32 input
 * `window: [N, W]` with a dynamic batch dimension, and produce the kind's outputs.
 */
import { readFile, stat } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { nopLogger, type Logger } from '../model/logger.js';
import { decodeModelHeader, type ModelHeader } from './onnx/encode.js';
import {
  INPUT_NAME,
  META,
  ModelLoadError,
  OUTPUT_NAMES,
  SUPPORTED_OPSETS,
  type LikelihoodParams,
  type ModelExpectation,
  type ModelInfo,
  type ModelKind,
  type ModelOutputs,
  type ModelSession,
} from './model.js';

/** Largest likelihood window a model may ask for (points of per-series state). */
const MAX_LIKELIHOOD_WINDOW = 100_000;

/** Default upper bound on a model file's size (bytes). */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

/** Options of {@link loadModel} / {@link loadModelBytes}. */
export interface LoadOptions {
  readonly maxBytes?: number;
  /** Threads of the native session (default 1: vigil shares the CPU with ingest and queries). */
  readonly intraOpThreads?: number;
  readonly logger?: Logger;
}

function parseList(s: string | undefined): number[] {
  if (!s) return [];
  return s.split(',').map((x) => Number(x.trim()));
}

/** Reads the model's self-description; throws a `ModelLoadError` when it is missing or invalid. */
export function modelInfo(header: ModelHeader, source: string): ModelInfo {
  const m = header.metadata;
  const kind = m[META.kind];
  if (kind !== 'forecaster' && kind !== 'anomaly') {
    throw new ModelLoadError(`metadata ${META.kind} is ${JSON.stringify(kind ?? null)}, want "forecaster" or "anomaly"`, 'mismatch', source);
  }
  const window = Number(m[META.window]);
  const stepMs = Number(m[META.stepMs]);
  if (!Number.isInteger(window) || window < 2) throw new ModelLoadError(`metadata ${META.window} is not an integer ≥ 2`, 'mismatch', source);
  if (!Number.isInteger(stepMs) || stepMs <= 0) throw new ModelLoadError(`metadata ${META.stepMs} is not a positive integer`, 'mismatch', source);
  const horizons = parseList(m[META.horizons]);
  const quantiles = parseList(m[META.quantiles]);
  if (horizons.some((h) => !Number.isInteger(h) || h <= 0)) throw new ModelLoadError(`metadata ${META.horizons} must be positive integers`, 'mismatch', source);
  if (quantiles.some((q) => !(q > 0 && q < 1))) throw new ModelLoadError(`metadata ${META.quantiles} must be in (0, 1)`, 'mismatch', source);
  let likelihood: LikelihoodParams | undefined;
  if (kind === 'anomaly') {
    try {
      likelihood = JSON.parse(m[META.likelihood] ?? '') as LikelihoodParams;
    } catch (e) {
      throw new ModelLoadError(`metadata ${META.likelihood} is not JSON`, 'mismatch', source, { cause: e });
    }
    // Window sizes allocate per-series buffers: bound them (the file is untrusted).
    const l = likelihood as Partial<LikelihoodParams> | null;
    for (const k of ['shortWindow', 'longWindow'] as const) {
      const v = l?.[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_LIKELIHOOD_WINDOW) {
        throw new ModelLoadError(`metadata ${META.likelihood}: ${k} must be an integer in [1, ${MAX_LIKELIHOOD_WINDOW}]`, 'mismatch', source);
      }
    }
  }
  return {
    kind,
    window,
    stepMs,
    horizons,
    quantiles,
    ...(likelihood ? { likelihood } : {}),
    irVersion: header.irVersion,
    opset: header.opsets.get('') ?? header.opsets.get('ai.onnx') ?? 0,
    metadata: m,
  };
}

/** Checks a decoded header against vigil's conventions and `expect`; returns the model info. */
export function validateHeader(header: ModelHeader, expect: ModelExpectation, source: string): ModelInfo {
  const opset = header.opsets.get('') ?? header.opsets.get('ai.onnx');
  if (opset === undefined) throw new ModelLoadError('declares no default-domain opset', 'opset', source);
  if (opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
    throw new ModelLoadError(`opset ${opset} is not supported (want ${SUPPORTED_OPSETS.min}..${SUPPORTED_OPSETS.max})`, 'opset', source);
  }
  const info = modelInfo(header, source);
  if (info.kind !== expect.kind) throw new ModelLoadError(`is a ${info.kind} model, the rule needs ${expect.kind}`, 'mismatch', source);
  if (header.inputs.length !== 1 || header.inputs[0]!.name !== INPUT_NAME) {
    throw new ModelLoadError(`must have exactly one input named ${JSON.stringify(INPUT_NAME)} (has ${JSON.stringify(header.inputs.map((i) => i.name))})`, 'mismatch', source);
  }
  const dims = header.inputs[0]!.dims;
  if (dims.length !== 2 || typeof dims[0] !== 'string' || dims[1] !== info.window) {
    throw new ModelLoadError(`input shape ${JSON.stringify(dims)} must be [N, ${info.window}] with a dynamic batch dimension`, 'mismatch', source);
  }
  if (expect.window !== undefined && expect.window !== info.window) {
    throw new ModelLoadError(`input window is ${info.window} points, the rule provides ${expect.window} (lookback / step)`, 'mismatch', source);
  }
  if (expect.stepMs !== undefined && expect.stepMs !== info.stepMs) {
    throw new ModelLoadError(`was trained for step ${info.stepMs}ms, the rule uses ${expect.stepMs}ms`, 'mismatch', source);
  }
  const outs = new Set(header.outputs.map((o) => o.name));
  for (const o of OUTPUT_NAMES[info.kind]) if (!outs.has(o)) throw new ModelLoadError(`lacks output ${JSON.stringify(o)}`, 'mismatch', source);
  for (const h of expect.horizons ?? []) {
    if (!info.horizons.includes(h)) throw new ModelLoadError(`has no horizon of ${h} steps (has ${info.horizons.join(', ')})`, 'mismatch', source);
  }
  for (const q of expect.quantiles ?? []) {
    if (!info.quantiles.includes(q)) throw new ModelLoadError(`has no quantile ${q} (has ${info.quantiles.join(', ')})`, 'mismatch', source);
  }
  return info;
}

class OrtModelSession implements ModelSession {
  constructor(
    readonly info: ModelInfo,
    readonly source: string,
    private readonly session: ort.InferenceSession,
  ) {}

  async run(input: Float32Array, n: number): Promise<ModelOutputs> {
    const w = this.info.window;
    if (!Number.isInteger(n) || n < 0 || input.length < n * w) {
      throw new RangeError(`input has ${input.length} values, need ${n} x ${w}`);
    }
    if (n === 0) return Object.fromEntries(OUTPUT_NAMES[this.info.kind].map((o) => [o, new Float32Array(0)]));
    const data = input.length === n * w ? input : input.subarray(0, n * w);
    const res = await this.session.run({ [INPUT_NAME]: new ort.Tensor('float32', data, [n, w]) });
    const out: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(res)) out[k] = t.data as Float32Array;
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Validates and opens model bytes. `source` names the model in errors. */
export async function loadModelBytes(bytes: Uint8Array, expect: ModelExpectation, source: string, opts: LoadOptions = {}): Promise<ModelSession> {
  const max = opts.maxBytes ?? MAX_MODEL_BYTES;
  if (bytes.length > max) throw new ModelLoadError(`is ${bytes.length} bytes, over the ${max} byte limit`, 'too-large', source);
  if (bytes.length === 0) throw new ModelLoadError('is empty', 'corrupt', source);
  let header: ModelHeader;
  try {
    header = decodeModelHeader(bytes);
  } catch (e) {
    throw new ModelLoadError(`is not an ONNX model (${e instanceof Error ? e.message : String(e)})`, 'corrupt', source, { cause: e });
  }
  if (!header.irVersion || !header.inputs.length) throw new ModelLoadError('is not an ONNX model (no IR version or graph inputs)', 'corrupt', source);
  const info = validateHeader(header, expect, source);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new ModelLoadError(`onnxruntime rejected it: ${e instanceof Error ? e.message : String(e)}`, 'corrupt', source, { cause: e });
  }
  (opts.logger ?? nopLogger).info('model loaded', { model: source, kind: info.kind, window: info.window, opset: info.opset });
  return new OrtModelSession(info, source, session);
}

/** Reads, validates and opens the model file at `path` for a rule expecting `expect`. */
export async function loadModel(path: string, expect: ModelExpectation, opts: LoadOptions = {}): Promise<ModelSession> {
  const max = opts.maxBytes ?? MAX_MODEL_BYTES;
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new ModelLoadError(`file not found (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'missing', path, { cause: e });
  }
  if (size > max) throw new ModelLoadError(`is ${size} bytes, over the ${max} byte limit`, 'too-large', path);
  const bytes = new Uint8Array(await readFile(path));
  return loadModelBytes(bytes, expect, path, opts);
}

/** The expectation a kind alone implies (used by `vigil models` and tests). */
export function expectKind(kind: ModelKind): ModelExpectation {
  return { kind };
}
