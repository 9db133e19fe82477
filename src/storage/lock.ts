/**
 * The storage directory's lock file (`<dir>/lock`), so that two vigil processes never append to
 * the same WAL. Node has no flock(2), so the lock is a file created exclusively that names its
 * owner (pid, hostname). A lock left behind by a process that died is taken over: its pid is not
 * alive on this host, or it was written on another host (a replaced pod; pids of other PID
 * namespaces cannot be checked, so there the lock only documents, as the warning says). A lock
 * naming this very pid is a previous life's (a container's PID 1 restarted) unless this process
 * holds it, which is refused as well.
 */
import { hostname } from 'node:os';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../model/errors.js';
import type { Logger } from '../model/logger.js';

/** A held lock; `release` removes the file (idempotent). */
export interface StorageLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Owner {
  readonly pid: number;
  readonly hostname: string;
  readonly since: string;
}

/** Lock files held by this process (a second open in the same process is refused too). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    const o = JSON.parse((await readFile(path, 'utf8')).slice(0, 4096)) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.hostname === 'string' ? { pid: o.pid, hostname: o.hostname, since: String(o.since ?? '') } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the lock of storage directory `dir` (which must exist). Throws a {@link ValidationError}
 * naming the owner when a live process on this host holds it.
 */
export async function lockStorageDir(dir: string, logger?: Logger): Promise<StorageLock> {
  const path = join(dir, 'lock');
  const me: Owner = { pid: process.pid, hostname: hostname(), since: new Date().toISOString() };
  if (held.has(path)) throw new ValidationError(`storage directory ${dir} is already open in this process`);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(me) + '\n');
      } finally {
        await fh.close();
      }
      let released = false;
      held.add(path);
      return {
        path,
        release: async () => {
          if (released) return;
          released = true;
          held.delete(path);
          const o = await readOwner(path);
          if (o?.pid === me.pid && o.hostname === me.hostname) await rm(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(path);
    if (owner && owner.hostname === me.hostname && owner.pid !== me.pid && alive(owner.pid)) {
      throw new ValidationError(`storage directory ${dir} is in use by process ${owner.pid} (since ${owner.since}); stop it, or remove ${path} if it is not vigil`);
    }
    logger?.warn('taking over a stale storage lock', { path, owner });
    await rm(path, { force: true });
  }
  throw new ValidationError(`could not take the storage lock ${path}: another process keeps recreating it`);
}
