import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandFilePattern, FileSD, parseFileSDContent } from '../../../src/ingest/scrape/file-sd.js';
import { labelsToObject } from '../../../src/model/labels.js';
import type { LogFields, Logger } from '../../../src/model/logger.js';

function captureLogger(lines: { msg: string; fields?: LogFields }[]): Logger {
  const l: Logger = {
    debug: (msg, fields) => lines.push({ msg, fields }),
    info: (msg, fields) => lines.push({ msg, fields }),
    warn: (msg, fields) => lines.push({ msg, fields }),
    error: (msg, fields) => lines.push({ msg, fields }),
    with: () => l,
  };
  return l;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'vigil-filesd-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const addrs = (sd: FileSD) => sd.groups().flatMap((g) => g.targets.map((t) => t[0]!.value));

describe('parseFileSDContent', () => {
  it('parses JSON and YAML and adds __meta_filepath', () => {
    const j = parseFileSDContent('[{"targets":["a:1","b:2"],"labels":{"env":"prod"}}]', '/x/t.json');
    expect(j).toHaveLength(1);
    expect(j[0]!.source).toBe('/x/t.json:0');
    expect(labelsToObject(j[0]!.labels)).toEqual({ __meta_filepath: '/x/t.json', env: 'prod' });
    const y = parseFileSDContent('- targets: [c:3]\n  labels:\n    team: x\n- targets: [d:4]\n', '/x/t.yaml');
    expect(y.map((g) => g.targets.length)).toEqual([1, 1]);
    expect(labelsToObject(y[0]!.labels)).toMatchObject({ team: 'x' });
  });

  it('rejects invalid content with a precise message', () => {
    expect(() => parseFileSDContent('{"targets":[]}', 'f.json')).toThrow('f.json: expected a list of target groups');
    expect(() => parseFileSDContent('[{"targets":[1]}]', 'f.json')).toThrow('f.json[0]: targets must be a list of non-empty strings');
    expect(() => parseFileSDContent('[{"targets":["a"],"labels":{"bad-name":"x"}}]', 'f.json')).toThrow(/invalid label name "bad-name"/);
    expect(() => parseFileSDContent('[{"targets":["a"],"extra":1}]', 'f.json')).toThrow(/unknown field "extra"/);
    expect(() => parseFileSDContent('[{', 'f.json')).toThrow(/^f\.json: /);
  });
});

describe('FileSD', () => {
  it('expands globs in the last path segment', async () => {
    await writeFile(path.join(dir, 'a.json'), '[]');
    await writeFile(path.join(dir, 'b.json'), '[]');
    await writeFile(path.join(dir, 'c.yaml'), '[]');
    expect(await expandFilePattern(path.join(dir, '*.json'))).toEqual([path.join(dir, 'a.json'), path.join(dir, 'b.json')]);
    expect(await expandFilePattern(path.join(dir, '?.yaml'))).toEqual([path.join(dir, 'c.yaml')]);
    expect(await expandFilePattern(path.join(dir, 'nope', '*.json'))).toEqual([]);
  });

  it('reloads on refresh, keeps previous targets for an invalid file, drops removed files', async () => {
    const f1 = path.join(dir, 'one.json');
    const f2 = path.join(dir, 'two.yml');
    await writeFile(f1, JSON.stringify([{ targets: ['a:1'] }]));
    await writeFile(f2, '- targets: ["b:2"]\n');
    const logs: { msg: string }[] = [];
    let changes = 0;
    const sd = new FileSD({ files: [path.join(dir, '*.json'), path.join(dir, '*.yml')], refreshInterval: 60_000 }, { logger: captureLogger(logs), onChange: () => changes++ });
    expect(await sd.refresh()).toBe(true);
    expect(addrs(sd).sort()).toEqual(['a:1', 'b:2']);
    expect(await sd.refresh()).toBe(false);

    await writeFile(f1, '[{"targets": ['); // broken
    expect(await sd.refresh()).toBe(false);
    expect(addrs(sd).sort()).toEqual(['a:1', 'b:2']);
    expect(logs.some((l) => l.msg.includes('keeping previous targets'))).toBe(true);

    await writeFile(f1, JSON.stringify([{ targets: ['a:1', 'c:3'] }]));
    expect(await sd.refresh()).toBe(true);
    expect(addrs(sd).sort()).toEqual(['a:1', 'b:2', 'c:3']);

    await unlink(f2);
    expect(await sd.refresh()).toBe(true);
    expect(addrs(sd).sort()).toEqual(['a:1', 'c:3']);
    expect(changes).toBe(3);
  });

  it('rejects files over the size limit', async () => {
    const f = path.join(dir, 'big.json');
    await writeFile(f, JSON.stringify([{ targets: ['x:1'] }]) + ' '.repeat(200));
    const logs: { msg: string; fields?: LogFields }[] = [];
    const sd = new FileSD({ files: [f], refreshInterval: 60_000 }, { logger: captureLogger(logs), maxFileBytes: 100 });
    await sd.refresh();
    expect(addrs(sd)).toEqual([]);
    expect(String((logs[0]?.fields?.['err'] as Error).message)).toMatch(/more than the limit of 100/);
  });

  it('picks up changes through fs.watch (best effort) without waiting for refresh_interval', async () => {
    const f = path.join(dir, 'w.json');
    await writeFile(f, JSON.stringify([{ targets: ['a:1'] }]));
    let resolveChange!: () => void;
    const changed = new Promise<void>((r) => (resolveChange = r));
    let n = 0;
    const sd = new FileSD({ files: [path.join(dir, '*.json')], refreshInterval: 3_600_000 }, { onChange: () => ++n === 2 && resolveChange() });
    await sd.start();
    try {
      expect(addrs(sd)).toEqual(['a:1']);
      await writeFile(f, JSON.stringify([{ targets: ['a:1', 'z:9'] }]));
      await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no watch event within 3s')), 3000))]);
      expect(addrs(sd)).toEqual(['a:1', 'z:9']);
    } finally {
      sd.stop();
    }
  });
});
