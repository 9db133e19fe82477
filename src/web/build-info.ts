/** Build information of this vigil (version from package.json; revision etc. from the environment when set at build time). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../config/default.js';
import type { BuildInfo } from './types.js';

let cached: BuildInfo | undefined;

/** vigil's build information (`VIGIL_REVISION`, `VIGIL_BRANCH`, `VIGIL_BUILD_USER`, `VIGIL_BUILD_DATE` may be set by the image build). */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // keep 'unknown'
  }
  const env = process.env;
  cached = {
    version,
    revision: env.VIGIL_REVISION ?? 'unknown',
    branch: env.VIGIL_BRANCH ?? 'unknown',
    buildUser: env.VIGIL_BUILD_USER ?? 'unknown',
    buildDate: env.VIGIL_BUILD_DATE ?? 'unknown',
    goVersion: process.version,
  };
  return cached;
}
