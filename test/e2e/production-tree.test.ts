/**
 * Builds the tree the Dockerfile's runtime image holds — production node_modules only
 * (`npm ci --omit=dev` offline when the npm cache allows, else the repository's installed
 * production packages — exactly those `npm ls --omit=dev` lists — copied; `npm prune` would need
 * the registry here), compiled JS from
 * `tsc -p tsconfig.build.json`, onnxruntime pruned to linux/x64, rules/ and models/ — then starts
 * `node dist/cmd/vigil.js run` from it (no tsx), waits for `/-/ready`, checks the embedded
 * default config found the rule packs from dist/, checks nothing outside --storage.path was
 * written (read-only root filesystem), and reports the tree size.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(new URL('../..', import.meta.url).pathname);
const TREE = mkdtempSync(path.join(tmpdir(), 'vigil-prod-tree-'));
const APP = path.join(TREE, 'app');
const DATA = path.join(TREE, 'data');
const ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_audit: 'false', npm_config_fund: 'false' };
let child: ChildProcess | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function duBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(`${path.relative(dir, p)}:${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out.sort();
}

/** Production dependencies: npm ci --omit=dev offline, else a copy of the installed production packages. */
function installProdDeps(): string {
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) cpSync(path.join(REPO, f), path.join(APP, f));
  const ci = spawnSync('npm', ['ci', '--omit=dev', '--offline', '--no-audit', '--no-fund'], { cwd: APP, env: ENV, encoding: 'utf8', timeout: 240_000 });
  if (ci.status === 0) return 'npm ci --omit=dev --offline';
  rmSync(path.join(APP, 'node_modules'), { recursive: true, force: true });
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
  const nm = path.join(REPO, 'node_modules') + path.sep;
  const tops = new Set<string>();
  for (const line of ls.stdout.split('\n')) {
    if (!line.startsWith(nm)) continue;
    const rel = line.slice(nm.length).split(path.sep);
    tops.add(rel[0]!.startsWith('@') ? `${rel[0]}/${rel[1]}` : rel[0]!);
  }
  for (const t of tops) cpSync(path.join(nm, t), path.join(APP, 'node_modules', t), { recursive: true, verbatimSymlinks: true });
  return `copy of the ${tops.size} installed production packages that npm ls --omit=dev lists (npm ci --offline: ${ci.stderr.split('\n').find((l) => l.includes('npm error')) ?? 'failed'})`;
}

/** The Dockerfile's onnxruntime pruning: keep bin/<napi>/linux/x64 only. */
function pruneOnnxruntime(): void {
  const bin = path.join(APP, 'node_modules/onnxruntime-node/bin');
  if (!existsSync(bin)) return;
  for (const napi of readdirSync(bin)) {
    for (const platform of readdirSync(path.join(bin, napi))) {
      if (platform !== 'linux') {
        rmSync(path.join(bin, napi, platform), { recursive: true, force: true });
        continue;
      }
      for (const arch of readdirSync(path.join(bin, napi, platform))) if (arch !== 'x64') rmSync(path.join(bin, napi, platform, arch), { recursive: true, force: true });
    }
  }
}

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  rmSync(TREE, { recursive: true, force: true });
});

describe('production tree (what the Docker image holds)', () => {
  let how = '';
  it('builds: production deps, compiled JS, pruned onnxruntime', () => {
    mkdirSync(APP, { recursive: true });
    mkdirSync(DATA);
    how = installProdDeps();
    // dev-only packages are absent
    for (const dev of ['vitest', 'typescript', 'fast-check', 'kubernetes-models']) expect(existsSync(path.join(APP, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(path.join(APP, 'node_modules/prom-client'))).toBe(true);
    // tsc from the repository (its devDependencies hold typescript and @types/node), emitting into the tree
    const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', path.join(APP, 'dist')], { cwd: REPO, encoding: 'utf8', timeout: 240_000 });
    if (tsc.status !== 0) console.warn(`[production-tree] tsc reported type errors (JS still emitted):\n${tsc.stdout.split('\n').slice(0, 20).join('\n')}`);
    expect(existsSync(path.join(APP, 'dist/cmd/vigil.js'))).toBe(true);
    expect(existsSync(path.join(APP, 'dist/src/app.js'))).toBe(true);
    for (const d of ['rules', 'models']) if (existsSync(path.join(REPO, d))) cpSync(path.join(REPO, d), path.join(APP, d), { recursive: true });
    cpSync(path.join(REPO, 'cmd/vigil-bin.mjs'), path.join(APP, 'cmd/vigil-bin.mjs'));
    pruneOnnxruntime();
    const bin = path.join(APP, 'node_modules/onnxruntime-node/bin');
    if (existsSync(bin)) {
      const left = readdirSync(bin).flatMap((napi) => readdirSync(path.join(bin, napi)).flatMap((p) => readdirSync(path.join(bin, napi, p)).map((a) => `${p}/${a}`)));
      expect(left).toEqual(['linux/x64']);
    }
  }, 600_000);

  it('runs with plain node (no tsx), becomes ready, loads the shipped rules, writes only to --storage.path', async () => {
    const before = listFiles(APP);
    const port = await freePort();
    let stderr = '';
    child = spawn(process.execPath, ['dist/cmd/vigil.js', 'run', `--storage.path=${DATA}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { cwd: APP, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const deadline = Date.now() + 60_000;
    let ready = 0;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        ready = (await fetch(`http://127.0.0.1:${port}/-/ready`)).status;
        if (ready === 200) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(ready, `vigil did not become ready; stderr:\n${stderr}`).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/-/healthy`)).status).toBe(200);
    const rules = (await (await fetch(`http://127.0.0.1:${port}/api/v1/rules`)).json()) as { data: { groups: { file: string }[] } };
    expect(rules.data.groups.length).toBeGreaterThan(0);
    expect(rules.data.groups.every((g) => g.file.startsWith(path.join(APP, 'rules')))).toBe(true);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/^vigil_/m);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', (c) => r(c)));
    expect(code, stderr).toBe(0);
    expect(listFiles(APP)).toEqual(before); // nothing written outside --storage.path
    expect(readdirSync(DATA).length).toBeGreaterThan(0); // the WAL is there
    const size = duBytes(APP);
    const nm = duBytes(path.join(APP, 'node_modules'));
    const dist = duBytes(path.join(APP, 'dist'));
    console.log(`[production-tree] ${how}\n[production-tree] tree ${(size / 1048576).toFixed(1)} MiB (node_modules ${(nm / 1048576).toFixed(1)} MiB, dist ${(dist / 1048576).toFixed(1)} MiB incl. source maps)`);
  }, 120_000);
});
