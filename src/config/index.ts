/** Configuration: file format → validated {@link VigilConfig} objects, defaults, redaction. */
export * from './types.js';
export { parseConfig, loadConfigFile, parseFsyncPolicy, ConfigError, DEFAULT_GLOBAL, DEFAULT_HOST, DEFAULT_RECEIVER, DEFAULT_STORAGE } from './loader.js';
export type { LoadedConfig, ParseConfigOptions } from './loader.js';
export { DEFAULT_CONFIG_YAML, DEFAULT_CONFIG_NAME, defaultConfig, repoRoot } from './default.js';
export { parseDuration, formatDuration, parseByteSize, DurationError } from './duration.js';
export { redactConfigYaml, SECRET_PLACEHOLDER } from './redact.js';
export { MAX_CONFIG_BYTES } from './yaml-node.js';
