/**
 * The embedded default configuration, used when `--config.file` is not given: host collector
 * on, remote-write receiver on, the shipped rule packs (`<repo>/rules/*.yaml`, which may match
 * nothing), no scrapes. (Contrast: a config file that is just `{}` turns the host collector
 * off and loads no rules — see `loader.ts`.)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig, type LoadedConfig } from './loader.js';

/** YAML text of the embedded default configuration (paths relative to the repository root). */
export const DEFAULT_CONFIG_YAML = `# vigil embedded default configuration
global:
  scrape_interval: 1m
  scrape_timeout: 10s
  evaluation_interval: 1m
host:
  enabled: true
  interval: 15s
remote_write_receiver:
  enabled: true
rule_files:
  - rules/*.yaml
`;

/** Name used for the embedded default in messages and `/api/v1/status/config`. */
export const DEFAULT_CONFIG_NAME = '<embedded default>';

/** The repository (package) root: where `rules/` and `models/` live, from source or from `dist/`. */
export function repoRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '..', '..');
  return path.basename(root) === 'dist' ? path.dirname(root) : root;
}

/** The embedded default configuration, validated (rule_files resolved against {@link repoRoot}). */
export function defaultConfig(): LoadedConfig {
  return { config: parseConfig(DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_NAME, { baseDir: repoRoot() }), file: DEFAULT_CONFIG_NAME, text: DEFAULT_CONFIG_YAML };
}
