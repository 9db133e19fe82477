import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockStorageDir } from '../../src/storage/lock.js';
import { openStorage } from '../../src/storage/open.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const owner = (): { pid: number; hostname: string } => JSON.parse(readFileSync(join(dir, 'lock'), 'utf8')) as { pid: number; hostname: string };

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

describe('storage directory lock', () => {
  it('a second open of the same directory is refused until the first closes', async () => {
    const a = await openStorage({ dir, retentionMs: 3_600_000 });
    expect(owner().pid).toBe(process.pid);
    await expect(openStorage({ dir, retentionMs: 3_600_000 })).rejects.toThrow(/already open in this process/);
    await a.close();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    const b = await openStorage({ dir, retentionMs: 3_600_000 });
    await b.close();
  });

  it('refuses a lock held by a live process on this host, naming it', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: child.pid, hostname: hostname(), since: 'x' }));
      await expect(lockStorageDir(dir)).rejects.toThrow(new RegExp(`in use by process ${child.pid}`));
      expect(owner().pid).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('takes over a lock left by a dead process, by another host, or unreadable', async () => {
    for (const content of [JSON.stringify({ pid: await deadPid(), hostname: hostname() }), JSON.stringify({ pid: process.pid === 1 ? 2 : 1, hostname: 'other-pod' }), 'garbage']) {
      writeFileSync(join(dir, 'lock'), content);
      const l = await lockStorageDir(dir);
      expect(owner()).toMatchObject({ pid: process.pid, hostname: hostname() });
      await l.release();
      await l.release();
      expect(existsSync(join(dir, 'lock'))).toBe(false);
    }
  });
});
