/**
 * Hashed secrets for the auth file: `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>` made with
 * Node's `crypto.scrypt`, verified in constant time (`crypto.timingSafeEqual`).
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { ValidationError } from '../model/errors.js';

/** Parsed hash parameters. */
export interface ScryptHash {
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/** Default cost (N=2^15, r=8, p=1: ~32 MiB, tens of ms). */
export const DEFAULT_SCRYPT = Object.freeze({ N: 32768, r: 8, p: 1 });

const MAX_N = 1 << 20;

function scrypt(secret: string | Buffer, salt: Buffer, len: number, o: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(secret, salt, len, o, (err, key) => (err ? reject(err) : resolve(key))));
}

function maxmem(h: { N: number; r: number; p: number }): number {
  return 256 * h.N * h.r + 1024 * 1024 + 128 * h.r * h.p;
}

/** Hashes a secret (for `vigil` operators writing the auth file, and tests). */
export async function hashSecret(secret: string, cost: { N: number; r: number; p: number } = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, 32, { ...cost, maxmem: maxmem(cost) });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Parses a stored hash; throws a {@link ValidationError} that never contains the hash itself. */
export function parseHash(s: string): ScryptHash {
  const parts = s.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') throw new ValidationError('secret hash must look like scrypt$N$r$p$salt$hash');
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) throw new ValidationError(`secret hash: N must be a power of two between 2 and ${MAX_N}`);
  if (!Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) throw new ValidationError('secret hash: r must be 1..32 and p 1..16');
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 8 || hash.length < 16) throw new ValidationError('secret hash: salt or hash too short');
  return { N, r, p, salt, hash };
}

/** True when `secret` matches `h` (constant-time comparison of the derived keys). */
export async function verifySecret(secret: string, h: ScryptHash): Promise<boolean> {
  if (secret.length > 4096) return false;
  const got = await scrypt(secret, h.salt, h.hash.length, { N: h.N, r: h.r, p: h.p, maxmem: maxmem(h) });
  return timingSafeEqual(got, h.hash);
}
