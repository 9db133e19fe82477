import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunFlags, RUN_FLAGS } from '../../cmd/flags.js';
import type { CliIO } from '../../cmd/io.js';
import { formatQueryData } from '../../cmd/query.js';
import { main } from '../../cmd/vigil.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function capture(fetchImpl?: typeof fetch): CliIO & { out: string; err: string; requests: { url: string; body: string }[] } {
  const io = {
    out: '',
    err: '',
    requests: [] as { url: string; body: string }[],
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      io.requests.push({ url: String(input), body: String(init?.body ?? '') });
      if (!fetchImpl) throw new Error('no fetch');
      return fetchImpl(input, init);
    }) as typeof fetch,
  };
  return io;
}

describe('help', () => {
  it('vigil --help and vigil run --help document every flag', async () => {
    for (const argv of [['--help'], ['run', '--help'], ['run', '-h']]) {
      const io = capture();
      expect(await main(argv, io)).toBe(0);
      for (const f of RUN_FLAGS) expect(io.out, `${argv.join(' ')} lists --${f.name}`).toContain(`--${f.name}=`);
      expect(io.out).toContain('default: 0.0.0.0:9477');
    }
  });

  it('no command prints usage to stderr with exit 1; unknown commands fail', async () => {
    let io = capture();
    expect(await main([], io)).toBe(1);
    expect(io.err).toContain('usage: vigil');
    io = capture();
    expect(await main(['frobnicate'], io)).toBe(1);
    expect(io.err).toBe('vigil: error: unknown command "frobnicate"\nTry "vigil --help".\n');
  });

  it('--version prints the package version', async () => {
    const io = capture();
    expect(await main(['--version'], io)).toBe(0);
    expect(io.out).toMatch(/^vigil, version \d+\.\d+\.\d+/);
  });
});

describe('run flags', () => {
  it('defaults', () => {
    const f = parseRunFlags([]);
    expect(f).toMatchObject({
      configFile: undefined,
      listenAddress: '0.0.0.0:9477',
      storagePath: './data',
      retentionMs: 86_400_000,
      walFsync: 1000,
      walFsyncExplicit: false,
      lookbackDeltaMs: 300_000,
      queryTimeoutMs: 120_000,
      maxSamples: 50_000_000,
      logLevel: 'info',
      logFormat: 'logfmt',
    });
  });

  it('parses --flag=value and --flag value forms', () => {
    const f = parseRunFlags(['--config.file=/c.yml', '--storage.wal-fsync', 'always', '--query.timeout=30s', '--log.format', 'json', '--web.listen-address=127.0.0.1:0']);
    expect(f).toMatchObject({ configFile: '/c.yml', walFsync: 'always', walFsyncExplicit: true, queryTimeoutMs: 30_000, logFormat: 'json', listenAddress: '127.0.0.1:0' });
    if (f === 'help') throw new Error('unexpected');
    expect(f.all['config.file']).toBe('/c.yml');
    expect(f.all['storage.retention']).toBe('24h');
  });

  it.each([
    [['--bogus'], 'unknown flag --bogus'],
    [['--storage.retention=abc'], 'invalid value "abc" for flag --storage.retention: expected a duration like 30s, 5m, 24h'],
    [['--query.timeout=0s'], 'must be greater than 0'],
    [['--storage.wal-fsync=sometimes'], 'invalid value for flag --storage.wal-fsync'],
    [['--query.max-samples=-1'], 'expected a positive integer'],
    [['--log.level=loud'], 'expected one of debug, info, warn, error'],
    [['--log.format=xml'], 'expected logfmt or json'],
    [['--web.listen-address=9477'], 'invalid listen address'],
    [['--web.external-url=not a url'], 'not an absolute URL'],
    [['--config.file'], 'flag --config.file needs a value'],
    [['extra'], 'unexpected argument "extra"'],
  ])('vigil run %j → exit 1 with a clear message', async (argv, msg) => {
    const io = capture();
    expect(await main(['run', ...argv], io)).toBe(1);
    expect(io.err).toContain(`vigil: error: `);
    expect(io.err).toContain(msg);
    expect(io.err).not.toMatch(/\n\s+at /);
    expect(io.out).toBe('');
  });

  it('a bad config file fails `vigil run` before anything starts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-cli-'));
    try {
      const f = path.join(dir, 'bad.yml');
      await writeFile(f, 'global:\n  scrape_intervall: 1s\n');
      const io = capture();
      expect(await main(['run', `--config.file=${f}`, '--web.listen-address=127.0.0.1:0', `--storage.path=${dir}`], io)).toBe(1);
      expect(io.err).toBe(`vigil: error: ${f}:2: unknown key "scrape_intervall" in global\n`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('check config', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-check-'));
    await writeFile(path.join(dir, 'good.yml'), 'scrape_configs:\n  - job_name: a\n    static_configs: [{targets: ["x:1"]}]\n');
    await writeFile(path.join(dir, 'bad.yml'), 'scrape_configs:\n  - job_name: a\n    scrape_interval: fast\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports success with a summary', async () => {
    const io = capture();
    const f = path.join(dir, 'good.yml');
    expect(await main(['check', 'config', f], io)).toBe(0);
    expect(io.out).toContain(`Checking ${f}\n  SUCCESS: ${f} is valid vigil configuration (1 scrape configs`);
  });

  it('reports the first error with file:line and exits 1', async () => {
    const io = capture();
    const good = path.join(dir, 'good.yml');
    const bad = path.join(dir, 'bad.yml');
    expect(await main(['check', 'config', good, bad], io)).toBe(1);
    expect(io.err).toBe(`  FAILED: ${bad}:3: scrape_configs[0].scrape_interval: not a valid duration string: "fast" (expected e.g. 15s, 1m, 1h30m)\n`);
    expect(io.out).toContain('SUCCESS');
  });

  it('usage errors', async () => {
    let io = capture();
    expect(await main(['check', 'rules-ish'], io)).toBe(1);
    expect(io.err).toContain('unknown check "rules-ish"');
    io = capture();
    expect(await main(['check', 'config'], io)).toBe(1);
    expect(io.err).toContain('needs at least one FILE');
  });
});

describe('query', () => {
  const reply = (body: unknown, status = 200): typeof fetch => (async () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })) as typeof fetch;

  it('posts the query and prints vector samples as text', async () => {
    const io = capture(
      reply({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'a', instance: 'x:1' }, value: [1700000000, '1'] }] }, warnings: ['PromQL warning: w'] }),
    );
    expect(await main(['query', 'up', '--time', '2023-11-14T22:13:20Z', '--server', 'http://h:1/'], io)).toBe(0);
    expect(io.out).toBe('up{instance="x:1", job="a"} => 1 @[1700000000]\n');
    expect(io.err).toBe('PromQL warning: w\n');
    expect(io.requests[0]!.url).toBe('http://h:1/api/v1/query');
    expect(new URLSearchParams(io.requests[0]!.body).get('time')).toBe('1700000000');
    expect(new URLSearchParams(io.requests[0]!.body).get('query')).toBe('up');
  });

  it('--output json prints the data object', async () => {
    const data = { resultType: 'scalar', result: [1, '2'] };
    const io = capture(reply({ status: 'success', data }));
    expect(await main(['query', '1+1', '--output=json'], io)).toBe(0);
    expect(JSON.parse(io.out)).toEqual(data);
  });

  it('server errors and unreachable servers exit 1 with one line', async () => {
    let io = capture(reply({ status: 'error', errorType: 'bad_data', error: '1:4: parse error: unexpected end of input' }, 400));
    expect(await main(['query', 'sum('], io)).toBe(1);
    expect(io.err).toBe('vigil: error: query failed: bad_data: 1:4: parse error: unexpected end of input\n');
    io = capture();
    expect(await main(['query', 'up'], io)).toBe(1);
    expect(io.err).toMatch(/^vigil: error: cannot reach vigil at http:\/\/127\.0\.0\.1:9477: no fetch\n$/);
    io = capture();
    expect(await main(['query'], io)).toBe(1);
    expect(io.err).toContain('needs exactly one PromQL expression');
    io = capture();
    expect(await main(['query', 'up', '--time=noon'], io)).toBe(1);
    expect(io.err).toContain('invalid value for flag --time');
  });

  it('formats matrices, scalars and strings', () => {
    expect(formatQueryData({ resultType: 'matrix', result: [{ metric: { __name__: 'x' }, values: [[1, '2'], [2, '3']] }] })).toBe('x =>\n2 @[1]\n3 @[2]');
    expect(formatQueryData({ resultType: 'scalar', result: [5, '1.5'] })).toBe('1.5 @[5]');
    expect(formatQueryData({ resultType: 'string', result: [5, 'hi'] })).toBe('"hi" @[5]');
    expect(formatQueryData({ resultType: 'vector', result: [{ metric: {}, value: [1, '0'] }] })).toBe('{} => 0 @[1]');
  });
});

describe('as a process', () => {
  const run = promisify(execFile);
  it('vigil-bin.mjs: bad flag → exit code 1, one line on stderr, no stack trace', async () => {
    const r = await run(process.execPath, [path.join(repo, 'cmd/vigil-bin.mjs'), 'run', '--nope'], { cwd: repo }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('vigil: error: unknown flag --nope\nTry "vigil --help".\n');
  });

  it('node --import tsx cmd/vigil.ts --help exits 0', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', path.join(repo, 'cmd/vigil.ts'), '--help'], { cwd: repo });
    expect(r.stdout).toContain('usage: vigil <command>');
  });
});

describe('check rules / test rules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-cli-rules-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('check rules: shipped packs pass, a bad expression fails with file, group, rule and line', async () => {
    const ok = capture();
    expect(await main(['check', 'rules', path.join(repo, 'rules/node.yaml')], ok)).toBe(0);
    expect(ok.out).toMatch(/SUCCESS: \d+ rules found/);
    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'groups:\n- name: g\n  rules:\n  - alert: X\n    expr: up ==\n');
    const io = capture();
    expect(await main(['check', 'rules', bad], io)).toBe(1);
    expect(io.err).toContain(`${bad}:5: group "g", rule 1 "X": could not parse expression`);
  });

  it('test rules: passing and failing unit-test files give exit 0 and 1', async () => {
    const rules = path.join(dir, 'r.yml');
    await writeFile(rules, 'groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 1m\n');
    const pass = path.join(dir, 'pass.yml');
    const fail = path.join(dir, 'fail.yml');
    const test = (exp: string): string =>
      `rule_files: [r.yml]\ntests:\n- interval: 1m\n  input_series:\n  - series: 'up{job="a"}'\n    values: '0x5'\n  alert_rule_test:\n  - eval_time: 3m\n    alertname: Down\n    exp_alerts:\n${exp}`;
    await writeFile(pass, test('    - exp_labels: {job: a}\n'));
    await writeFile(fail, test('    - exp_labels: {job: b}\n'));
    const io = capture();
    expect(await main(['test', 'rules', pass], io)).toBe(0);
    const io2 = capture();
    expect(await main(['test', 'rules', fail], io2)).toBe(1);
    expect(io2.out).toContain('FAILED');
  });
});
