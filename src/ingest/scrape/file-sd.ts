/**
 * File-based service discovery (`file_sd_configs`): JSON or YAML files holding a list of
 * `{targets: [...], labels: {...}}`, matched by patterns with `*`/`?` in the last path segment.
 * Files are re-read every `refreshInterval` and, best effort, when `fs.watch` reports a change.
 * A file that fails to read or validate keeps its previous targets (and is logged).
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { FileSDConfig } from '../../config/types.js';
import { ValidationError } from '../../model/errors.js';
import type { Label } from '../../model/labels.js';
import { nopLogger, type Logger } from '../../model/logger.js';
import type { TargetGroup } from './targets.js';

/** Max bytes of one file_sd file. */
export const DEFAULT_MAX_FILE_SD_BYTES = 16 << 20;

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function globToRegExp(pattern: string): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Expands a pattern with `*`/`?` in its last segment to existing files (sorted). */
export async function expandFilePattern(pattern: string): Promise<string[]> {
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) return [pattern];
  const dir = path.dirname(pattern);
  const re = globToRegExp(base);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/** Reads at most `max` bytes of a file; throws ValidationError when it is larger. */
async function readBounded(file: string, max: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.size > max) throw new ValidationError(`${file}: file is ${st.size} bytes, more than the limit of ${max}`);
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead > max) throw new ValidationError(`${file}: file is larger than the limit of ${max} bytes`);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * Parses the content of one file_sd file (JSON, or YAML for `.yml`/`.yaml`) into target groups.
 * Adds `__meta_filepath`. Throws {@link ValidationError} with a precise message.
 */
export function parseFileSDContent(text: string, file: string): TargetGroup[] {
  let raw: unknown;
  const ext = path.extname(file).toLowerCase();
  try {
    raw = ext === '.yml' || ext === '.yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: ${(err as Error).message}`, { cause: err });
  }
  if (raw === null || raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ValidationError(`${file}: expected a list of target groups`);
  return raw.map((g: unknown, i): TargetGroup => {
    const where = `${file}[${i}]`;
    if (g === null || typeof g !== 'object' || Array.isArray(g)) throw new ValidationError(`${where}: target group must be a mapping`);
    const obj = g as Record<string, unknown>;
    for (const k of Object.keys(obj)) if (k !== 'targets' && k !== 'labels') throw new ValidationError(`${where}: unknown field ${JSON.stringify(k)}`);
    const targets = obj['targets'] ?? [];
    if (!Array.isArray(targets) || !targets.every((t) => typeof t === 'string' && t !== '')) {
      throw new ValidationError(`${where}: targets must be a list of non-empty strings`);
    }
    const labels: Label[] = [{ name: '__meta_filepath', value: file }];
    const rawLabels = obj['labels'] ?? {};
    if (rawLabels === null || typeof rawLabels !== 'object' || Array.isArray(rawLabels)) throw new ValidationError(`${where}: labels must be a mapping`);
    for (const [k, v] of Object.entries(rawLabels as Record<string, unknown>)) {
      if (!LABEL_NAME_RE.test(k)) throw new ValidationError(`${where}: invalid label name ${JSON.stringify(k)}`);
      if (typeof v !== 'string') throw new ValidationError(`${where}: label ${k} must have a string value`);
      if (v !== '' && k !== '__meta_filepath') labels.push({ name: k, value: v });
    }
    labels.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { source: `${file}:${i}`, targets: (targets as string[]).map((t) => [{ name: '__address__', value: t }]), labels };
  });
}

/** Options of {@link FileSD}. */
export interface FileSDOptions {
  readonly logger?: Logger;
  /** Called after a refresh that changed the groups. */
  readonly onChange?: () => void;
  readonly maxFileBytes?: number;
}

/** One `file_sd_configs` entry at runtime. */
export class FileSD {
  private readonly byFile = new Map<string, TargetGroup[]>();
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private watchers: FSWatcher[] = [];
  private refreshing: Promise<boolean> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly config: FileSDConfig,
    private readonly opts: FileSDOptions = {},
  ) {
    this.logger = (opts.logger ?? nopLogger).with({ component: 'file_sd' });
  }

  /** Current target groups of all matched files. */
  groups(): TargetGroup[] {
    const out: TargetGroup[] = [];
    for (const file of [...this.byFile.keys()].sort()) out.push(...this.byFile.get(file)!);
    return out;
  }

  /** Re-reads every matching file; resolves true when the groups changed. Never rejects. */
  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.doRefresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<boolean> {
    const before = JSON.stringify(this.groups());
    const files = new Set<string>();
    for (const p of this.config.files) for (const f of await expandFilePattern(p)) files.add(f);
    for (const f of [...this.byFile.keys()]) if (!files.has(f)) this.byFile.delete(f);
    const max = this.opts.maxFileBytes ?? DEFAULT_MAX_FILE_SD_BYTES;
    for (const f of files) {
      try {
        this.byFile.set(f, parseFileSDContent(await readBounded(f, max), f));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          this.byFile.delete(f);
          continue;
        }
        this.logger.error('error reading file_sd file, keeping previous targets', { file: f, err });
      }
    }
    const changed = JSON.stringify(this.groups()) !== before;
    if (changed && !this.stopped) {
      try {
        this.opts.onChange?.();
      } catch (err) {
        this.logger.error('file_sd change handler failed', { err });
      }
    }
    return changed;
  }

  /** Starts periodic refresh and directory watches (after an initial refresh). */
  async start(): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    const interval = this.config.refreshInterval > 0 ? this.config.refreshInterval : 5 * 60_000;
    this.timer = setInterval(() => void this.refresh(), interval);
    this.timer.unref();
    const dirs = new Set(this.config.files.map((p) => path.dirname(p)));
    for (const d of dirs) {
      try {
        const w = watch(d, () => this.onWatch());
        w.on('error', (err) => this.logger.warn('file_sd watch error', { dir: d, err }));
        w.unref();
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn('cannot watch file_sd directory; relying on refresh_interval', { dir: d, err });
      }
    }
  }

  private onWatch(): void {
    if (this.stopped) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.refresh(), 50);
    this.debounce.unref();
  }

  /** Stops timers and watches. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
