/**
 * Model resolution and loading for predictive rules: a rule's `model:` is a name (a file
 * `<models dir>/<name>.onnx`) or a path to an `.onnx` file. The registry caches loaded sessions
 * per file (reloaded when the file changes) and checks each against what the rule expects; a
 * missing, corrupt or mismatched model is a {@link ModelLoadError} naming the reason.
 */
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nopLogger, type Logger } from '../model/logger.js';
import { ModelLoadError, type ModelExpectation, type ModelInfo, type ModelSession } from '../ml/model.js';
import type { AnomalyRuleConfig, ForecastRuleConfig } from './rule.js';

/** Default upper bound on a model file (bytes), as the ML session's. */
const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Default models directory: `./models` of the working directory when it exists, else the
 * `models/` folder shipped beside vigil's sources.
 */
export function defaultModelDir(): string {
  const cwd = resolve('models');
  if (existsSync(cwd)) return cwd;
  return fileURLToPath(new URL('../../models/', import.meta.url));
}

/** Resolves a rule's `model:` to a file path: a path (contains `/` or ends in `.onnx`) or `<dir>/<name>.onnx`. */
export function resolveModelPath(model: string, modelDir: string): string {
  if (model.includes('/') || model.endsWith('.onnx')) return isAbsolute(model) ? model : resolve(modelDir, model);
  return join(modelDir, `${model}.onnx`);
}

/** What a predictive rule expects of its model (window only checked exactly for forecasts). */
export function ruleExpectation(rc: ForecastRuleConfig | AnomalyRuleConfig): ModelExpectation {
  if (rc.kind === 'forecast') {
    return {
      kind: 'forecaster',
      window: Math.round(rc.lookback / rc.step),
      stepMs: rc.step,
      horizons: rc.horizons.map((h) => Math.round(h / rc.step)),
      quantiles: rc.quantiles,
    };
  }
  return { kind: 'anomaly' };
}

/**
 * Checks a loaded model's self-description against a rule's expectation (the session loader
 * checks kind and shape; this adds the rule's window, step, horizons and quantiles) and, for
 * anomaly rules, that `lookback / step` covers the model window.
 */
export function checkModelInfo(info: ModelInfo, rc: ForecastRuleConfig | AnomalyRuleConfig, source: string): void {
  const e = ruleExpectation(rc);
  if (info.kind !== e.kind) throw new ModelLoadError(`is a ${info.kind} model, the rule needs ${e.kind}`, 'mismatch', source);
  if (e.window !== undefined && e.window !== info.window) {
    throw new ModelLoadError(`input window is ${info.window} points, the rule provides ${e.window} (lookback / step)`, 'mismatch', source);
  }
  if (e.stepMs !== undefined && e.stepMs !== info.stepMs) throw new ModelLoadError(`was trained for step ${info.stepMs}ms, the rule uses ${e.stepMs}ms`, 'mismatch', source);
  for (const h of e.horizons ?? []) {
    if (!info.horizons.includes(h)) throw new ModelLoadError(`has no horizon of ${h} steps (has ${info.horizons.join(', ')})`, 'mismatch', source);
  }
  for (const q of e.quantiles ?? []) {
    if (!info.quantiles.includes(q)) throw new ModelLoadError(`has no quantile ${q} (has ${info.quantiles.join(', ')})`, 'mismatch', source);
  }
  if (rc.kind === 'anomaly') {
    const points = Math.floor(rc.lookback / rc.step);
    if (points < info.window) throw new ModelLoadError(`needs a window of ${info.window} points, the rule's lookback / step gives ${points}`, 'mismatch', source);
  }
}

/**
 * Static check of a model file for `vigil check rules` (no native session): bounded read,
 * ONNX header decode, opset/kind/shape/metadata checks and the rule's expectation.
 */
export async function checkModelFile(path: string, rc: ForecastRuleConfig | AnomalyRuleConfig): Promise<ModelInfo> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    throw new ModelLoadError(`file not found (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'missing', path, { cause: e });
  }
  if (size > MAX_MODEL_FILE_BYTES) throw new ModelLoadError(`is ${size} bytes, over the ${MAX_MODEL_FILE_BYTES} byte limit`, 'too-large', path);
  if (size === 0) throw new ModelLoadError('is empty', 'corrupt', path);
  const fh = await open(path, 'r');
  const bytes = new Uint8Array(size);
  try {
    await fh.read(bytes, 0, size, 0);
  } finally {
    await fh.close();
  }
  const { decodeModelHeader } = await import('../ml/onnx/encode.js');
  const { validateHeader } = await import('../ml/session.js');
  let header;
  try {
    header = decodeModelHeader(bytes);
  } catch (e) {
    throw new ModelLoadError(`is not an ONNX model (${e instanceof Error ? e.message : String(e)})`, 'corrupt', path, { cause: e });
  }
  if (!header.irVersion || !header.inputs.length) throw new ModelLoadError('is not an ONNX model (no IR version or graph inputs)', 'corrupt', path);
  const info = validateHeader(header, { kind: ruleExpectation(rc).kind }, path);
  checkModelInfo(info, rc, path);
  return info;
}

/** Opens a model file for a kind (default: `loadModel` of the ML session, onnxruntime-node). */
export type ModelLoader = (path: string, expect: ModelExpectation) => Promise<ModelSession>;

/** Options of a {@link ModelRegistry}. */
export interface ModelRegistryOptions {
  /** Directory of named models (default {@link defaultModelDir}). */
  readonly modelDir?: string;
  /** Loader (tests inject fakes or spies). */
  readonly load?: ModelLoader;
  readonly logger?: Logger;
}

interface Cached {
  readonly stamp: string;
  readonly session: Promise<ModelSession>;
}

/** Loads and shares model sessions between rules; one session per file and kind. */
export class ModelRegistry {
  /** Directory of named models. */
  readonly modelDir: string;
  private readonly cache = new Map<string, Cached>();
  private readonly loader: ModelLoader;
  private readonly logger: Logger;

  constructor(opts: ModelRegistryOptions = {}) {
    this.modelDir = opts.modelDir ?? defaultModelDir();
    this.logger = opts.logger ?? nopLogger;
    this.loader =
      opts.load ??
      (async (path, expect) => {
        const { loadModel } = await import('../ml/session.js');
        return loadModel(path, expect, { logger: this.logger });
      });
  }

  /** Path a rule's `model:` resolves to. */
  resolve(model: string): string {
    return resolveModelPath(model, this.modelDir);
  }

  /**
   * The session for a rule (loaded once per file and kind; a changed file is reloaded), checked
   * against the rule's expectation. Rejects with a {@link ModelLoadError}.
   */
  async get(rc: ForecastRuleConfig | AnomalyRuleConfig): Promise<ModelSession> {
    const path = this.resolve(rc.model);
    const expect = ruleExpectation(rc);
    let stamp: string;
    try {
      const st = await stat(path);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch (e) {
      throw new ModelLoadError(`file not found (${(e as NodeJS.ErrnoException).code ?? 'error'})`, 'missing', path, { cause: e });
    }
    const key = `${expect.kind}\0${path}`;
    let c = this.cache.get(key);
    if (!c || c.stamp !== stamp) {
      const old = c;
      c = { stamp, session: this.loader(path, { kind: expect.kind }) };
      this.cache.set(key, c);
      // A failed load is not cached: the next rule (or reload) tries again.
      const mine = c;
      c.session.catch(() => {
        if (this.cache.get(key) === mine) this.cache.delete(key);
      });
      // Sessions of a replaced file are released once in-flight runs had time to finish.
      if (old) void old.session.then((s) => setTimeout(() => void s.close().catch(() => {}), 60_000).unref(), () => {});
    }
    const session = await c.session;
    checkModelInfo(session.info, rc, path);
    return session;
  }

  /** Releases all sessions. */
  async close(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const c of all) {
      try {
        await (await c.session).close();
      } catch {
        // a failed load has nothing to release
      }
    }
  }
}
