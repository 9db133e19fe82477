/**
 * Helpers for end-to-end tests against real peers (Debian's prometheus, prometheus-alertmanager,
 * prometheus-node-exporter) and vigil itself as a child process. Everything listens on
 * 127.0.0.1 with random free ports and temporary directories, and is stopped afterwards.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The shared folder beside the repository. */
export const SHARED = resolve(REPO_ROOT, '../shared');

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/**
 * True when `binary` is on PATH. When it is missing: under CI=true this throws (the e2e test
 * must fail); otherwise it prints a loud skip notice and returns false.
 */
export function havePeer(binary: string): boolean {
  const r = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  if (r.status === 0) return true;
  const msg = `peer binary "${binary}" not found on PATH (install: apt-get install --no-install-recommends prometheus prometheus-alertmanager prometheus-node-exporter)`;
  if (process.env.CI === 'true') throw new Error(`${msg} — e2e tests cannot be skipped in CI`);
  console.warn(`\n${'!'.repeat(78)}\n!!! SKIPPING e2e test: ${msg}\n${'!'.repeat(78)}\n`);
  return false;
}

/** A temporary directory removed by {@link rmTemp}. */
export function makeTemp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
}

/** Removes a temporary directory. */
export function rmTemp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Polls `url` until it answers 2xx or the deadline passes. */
export async function waitReady(url: string, timeoutMs = 30_000, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode} before ${url} was ready`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${url}: ${last}`);
}

/** A running child process with its URL. */
export interface Peer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** Output collected so far (stdout+stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL at once. */
  kill(): Promise<void>;
}

function startProcess(cmd: string, args: string[], port: number, dir: string, env?: NodeJS.ProcessEnv): Peer {
  const proc = spawn(cmd, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    out += b.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const gone = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    dir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await gone;
    },
  };
}

/** Where a restarted peer runs: reuse a port (and data directory) of a stopped one. */
export interface PeerPlacement {
  readonly port?: number;
  /** Existing directory to reuse (config is rewritten, data kept). */
  readonly dir?: string;
}

/** Starts Debian's Prometheus 2.42 with the given YAML config. */
export async function startPrometheus(configYaml: string, extraArgs: string[] = [], placement: PeerPlacement = {}): Promise<Peer> {
  const dir = placement.dir ?? makeTemp('prom');
  const port = placement.port ?? (await freePort());
  writeFileSync(join(dir, 'prometheus.yml'), configYaml);
  const peer = startProcess(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-remote-write-receiver',
      '--web.enable-lifecycle',
      ...extraArgs,
    ],
    port,
    dir,
  );
  await waitReady(`${peer.url}/-/ready`, 30_000, peer.proc).catch((e: Error) => {
    throw new Error(`${e.message}\n${peer.output()}`);
  });
  return peer;
}

/** Starts Debian's Alertmanager 0.25 with the given YAML config (clustering off). */
export async function startAlertmanager(configYaml: string, placement: PeerPlacement = {}): Promise<Peer> {
  const dir = placement.dir ?? makeTemp('am');
  const port = placement.port ?? (await freePort());
  writeFileSync(join(dir, 'alertmanager.yml'), configYaml);
  const peer = startProcess(
    'prometheus-alertmanager',
    [`--config.file=${join(dir, 'alertmanager.yml')}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    port,
    dir,
  );
  await waitReady(`${peer.url}/-/ready`, 30_000, peer.proc).catch((e: Error) => {
    throw new Error(`${e.message}\n${peer.output()}`);
  });
  return peer;
}

/** Starts Debian's node_exporter 1.5 with extra flags. */
export async function startNodeExporter(args: string[] = []): Promise<Peer> {
  const dir = makeTemp('ne');
  const port = await freePort();
  const peer = startProcess('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, ...args], port, dir);
  await waitReady(`${peer.url}/metrics`, 30_000, peer.proc).catch((e: Error) => {
    throw new Error(`${e.message}\n${peer.output()}`);
  });
  return peer;
}

/** Options of {@link startVigil}. */
export interface VigilProcessOptions {
  /** YAML config text; `{}` runs a bare receiver + query API. */
  readonly config: string;
  /** Storage directory to reuse across restarts (default: a new temp dir). */
  readonly storageDir?: string;
  readonly port?: number;
  readonly extraArgs?: readonly string[];
  /** Extra files written beside the config (e.g. rule files it names). */
  readonly files?: Readonly<Record<string, string>>;
}

/** Starts vigil from source as a child process and waits until /-/ready answers. */
export async function startVigil(opts: VigilProcessOptions): Promise<Peer & { storageDir: string }> {
  const dir = makeTemp('vigil');
  const port = opts.port ?? (await freePort());
  const storageDir = opts.storageDir ?? join(dir, 'data');
  writeFileSync(join(dir, 'vigil.yml'), opts.config);
  for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), text);
  const peer = startProcess(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'cmd/vigil.ts'),
      'run',
      `--config.file=${join(dir, 'vigil.yml')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--storage.path=${storageDir}`,
      ...(opts.extraArgs ?? []),
    ],
    port,
    REPO_ROOT,
  );
  await waitReady(`${peer.url}/-/ready`, 60_000, peer.proc).catch((e: Error) => {
    throw new Error(`${e.message}\n${peer.output()}`);
  });
  return { ...peer, dir, storageDir };
}

/** GET a JSON API path and return `data`, throwing on an error status. */
export async function apiGet<T = unknown>(base: string, path: string): Promise<T> {
  const r = await fetch(base + path, { signal: AbortSignal.timeout(20_000) });
  const body = (await r.json()) as { status: string; data: T; error?: string };
  if (!r.ok || body.status !== 'success') throw new Error(`${path}: HTTP ${r.status} ${body.error ?? ''}`);
  return body.data;
}
