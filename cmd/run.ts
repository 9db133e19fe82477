/** `vigil run`: starts the app and keeps it running until SIGTERM/SIGINT; SIGHUP reloads. */
import { loadConfigFile } from '../src/config/loader.js';
import { createLogger } from '../src/model/logger.js';
import { parseRunFlags, runHelp } from './flags.js';
import type { CliIO } from './io.js';

/** Runs `vigil run`. Resolves with the exit code once vigil has shut down. */
export async function runCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const flags = parseRunFlags(argv);
  if (flags === 'help') {
    io.stdout(runHelp());
    return 0;
  }
  // Validate the config file before loading the application, so a bad file fails fast.
  if (flags.configFile !== undefined) await loadConfigFile(flags.configFile);
  const logger = createLogger({ level: flags.logLevel, format: flags.logFormat, write: (l) => io.stderr(l + '\n') });
  // Imported lazily: --help and flag errors must not load the whole application.
  const { startApp } = await import('../src/app.js');
  const app = await startApp({
    configFile: flags.configFile,
    listenAddress: flags.listenAddress,
    externalUrl: flags.externalUrl,
    ...(flags.webConfigFile !== undefined ? { webConfigFile: flags.webConfigFile } : {}),
    serverLimits: { maxConcurrentRequests: flags.maxConcurrentRequests, requestTimeoutMs: flags.readTimeoutMs },
    storagePath: flags.storagePath,
    retentionMs: flags.retentionMs,
    walFsync: flags.walFsyncExplicit ? flags.walFsync : undefined,
    lookbackDeltaMs: flags.lookbackDeltaMs,
    queryTimeoutMs: flags.queryTimeoutMs,
    maxSamples: flags.maxSamples,
    resendDelayMs: flags.resendDelayMs,
    outageToleranceMs: flags.outageToleranceMs,
    gracePeriodMs: flags.gracePeriodMs,
    flags: flags.all,
    logger,
  });
  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      logger.info('SIGHUP received, reloading configuration');
      app.reload().catch(() => {
        /* logged by the app; the old config stays active */
      });
    };
    const onStop = (sig: NodeJS.Signals): void => {
      logger.info('received signal, shutting down', { signal: sig });
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      // A second signal while stopping exits at once.
      const force = (): void => process.exit(1);
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      app.stop().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error('error during shutdown', { err: e });
          resolve(1);
        },
      );
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onStop);
    process.on('SIGINT', onStop);
  });
}
