/**
 * Typed reading of a parsed YAML document with positions: every accessor knows the file and
 * line of the node it reads, so validation errors read `config.yml:12: unknown key "x" in global`.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ValidationError } from '../model/errors.js';
import { DurationError, parseByteSize, parseDuration } from './duration.js';

/** A configuration error with the file and (1-based) line it refers to (line 0 = unknown). */
export class ConfigError extends ValidationError {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    options?: ErrorOptions,
  ) {
    super(line > 0 ? `${file}:${line}: ${message}` : `${file}: ${message}`, options);
  }
}

/** A YAML node (or an absent value) with the position information to report errors. */
export class YNode {
  constructor(
    /** The underlying node; undefined/null for an absent or `~` value. */
    readonly node: Node | null | undefined,
    readonly file: string,
    private readonly lc: LineCounter,
    /** Human name of what this node is, e.g. `scrape_configs[0].job_name`. */
    readonly what: string,
    /** Line to fall back to when the node has no range (e.g. an absent key: the parent's). */
    private readonly fallbackLine = 0,
  ) {}

  /** 1-based line of the node (or the fallback line). */
  get line(): number {
    const r = this.node?.range;
    return r ? this.lc.linePos(r[0]).line : this.fallbackLine;
  }

  /** A ConfigError positioned at this node. */
  error(message: string, cause?: unknown): ConfigError {
    return new ConfigError(message, this.file, this.line, cause === undefined ? undefined : { cause });
  }

  /** True when the value is absent or YAML null. */
  get isNull(): boolean {
    return this.node == null || (isScalar(this.node) && this.node.value === null);
  }

  private child(node: Node | null | undefined, what: string): YNode {
    return new YNode(node, this.file, this.lc, what, this.line);
  }

  private typeName(): string {
    const n = this.node;
    if (n == null) return 'nothing';
    if (isMap(n)) return 'a mapping';
    if (isSeq(n)) return 'a list';
    if (isScalar(n)) return n.value === null ? 'null' : `${typeof n.value} ${JSON.stringify(n.value)}`;
    return 'an alias';
  }

  private expected(what: string): ConfigError {
    return this.error(`${this.what === '' ? 'the top level' : this.what}: expected ${what}, got ${this.typeName()}`);
  }

  /**
   * Reads a mapping with a fixed set of allowed keys (null/absent = empty mapping). Unknown and
   * non-string keys are errors. Returns key → child node.
   */
  map(allowed: readonly string[]): Map<string, YNode> {
    const out = new Map<string, YNode>();
    if (this.isNull) return out;
    if (!isMap(this.node)) throw this.expected('a mapping');
    const where = this.what === '' ? 'the top level' : this.what;
    for (const pair of this.node.items as Pair<unknown, unknown>[]) {
      const k = pair.key;
      const kn = this.child(isScalar(k) ? k : null, where);
      if (!isScalar(k) || typeof k.value !== 'string') throw kn.error(`${where}: keys must be strings`);
      if (!allowed.includes(k.value)) throw kn.error(`unknown key ${JSON.stringify(k.value)} in ${where}`);
      const v = new YNode(pair.value as Node | null, this.file, this.lc, this.what === '' ? k.value : `${this.what}.${k.value}`, kn.line);
      out.set(k.value, v);
    }
    return out;
  }

  /** Reads a mapping of arbitrary string keys to child nodes (e.g. labels, headers). */
  entries(): [string, YNode][] {
    if (this.isNull) return [];
    if (!isMap(this.node)) throw this.expected('a mapping');
    const out: [string, YNode][] = [];
    for (const pair of this.node.items as Pair<unknown, unknown>[]) {
      const k = pair.key;
      if (!isScalar(k) || (typeof k.value !== 'string' && typeof k.value !== 'number')) {
        throw this.child(isScalar(k) ? k : null, this.what).error(`${this.what}: keys must be strings`);
      }
      const line = this.lc.linePos(k.range?.[0] ?? 0).line;
      out.push([String(k.value), new YNode(pair.value as Node | null, this.file, this.lc, `${this.what}.${String(k.value)}`, line)]);
    }
    return out;
  }

  /** Reads a list (null/absent = empty). */
  list(): YNode[] {
    if (this.isNull) return [];
    if (!isSeq(this.node)) throw this.expected('a list');
    return this.node.items.map((n, i) => this.child(n as Node | null, `${this.what}[${i}]`));
  }

  private scalar(): unknown {
    return isScalar(this.node) ? this.node.value : undefined;
  }

  /** Reads a string. Numbers are accepted and stringified (YAML `80` for a port). */
  str(): string {
    const v = this.scalar();
    if (typeof v === 'string') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw this.expected('a string');
  }

  /** Reads a boolean. */
  bool(): boolean {
    const v = this.scalar();
    if (typeof v === 'boolean') return v;
    throw this.expected('true or false');
  }

  /** Reads a non-negative integer. */
  uint(): number {
    const v = this.scalar();
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
    throw this.expected('a non-negative integer');
  }

  /** Reads a Prometheus duration string (ms). */
  duration(): number {
    const v = this.scalar();
    if (typeof v !== 'string' && typeof v !== 'number') throw this.expected('a duration like 15s, 1m, 1h30m');
    try {
      return parseDuration(String(v));
    } catch (e) {
      throw this.error(`${this.what}: ${(e as DurationError).message} (expected e.g. 15s, 1m, 1h30m)`, e);
    }
  }

  /** Reads a byte size (`10MB`, `0`). */
  byteSize(): number {
    const v = this.scalar();
    if (typeof v !== 'string' && typeof v !== 'number') throw this.expected('a byte size like 10MB');
    try {
      return parseByteSize(String(v));
    } catch (e) {
      throw this.error(`${this.what}: ${(e as Error).message}`, e);
    }
  }

  /** Reads a list of strings. */
  strList(): string[] {
    return this.list().map((n) => n.str());
  }

  /** Reads a string → string mapping. */
  strMap(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, n] of this.entries()) out[k] = n.str();
    return out;
  }

  /** The plain JS value (for sections kept raw). */
  toJS(): unknown {
    if (this.node == null) return undefined;
    return (this.node as { toJSON(): unknown }).toJSON();
  }
}

/** Maximum accepted config file size. */
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

/** Parses YAML text into a positioned root node; YAML syntax errors become ConfigErrors. */
export function parseYaml(text: string, file: string): YNode {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new ConfigError(`file is larger than ${MAX_CONFIG_BYTES} bytes`, file, 0);
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: true, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line ?? lc.linePos(err.pos[0]).line;
    throw new ConfigError(`YAML syntax error: ${err.message.split('\n')[0]}`, file, line, { cause: err });
  }
  return new YNode(doc.contents as Node | null, file, lc, '', 1);
}

/** The value of `key` read by `read`, or `dflt` when the key is absent or null. */
export function opt<T>(m: Map<string, YNode>, key: string, read: (n: YNode) => T, dflt: T): T {
  const n = m.get(key);
  return n === undefined || n.isNull ? dflt : read(n);
}
