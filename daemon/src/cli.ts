/**
 * `vexil`: parses the configuration once (flags, FLAGD_* environment, --config file), starts the
 * daemon, and stops it gracefully on SIGTERM/SIGINT. A bad argument prints one line and exits 2.
 */
import { auditCommand, killCommand, type CommandIo } from './admin/commands.js';
import { explainCommand } from './admin/explain-command.js';
import { codegenCommand } from './tools/codegen-command.js';
import { refsCommand } from './tools/refs-command.js';

/** Runs the command; resolves with the exit code once the daemon has stopped (or at once for help/errors). */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Client commands of the management API: no daemon configuration involved.
  const io: CommandIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env };
  if (argv[0] === 'kill') return killCommand(argv.slice(1), io);
  if (argv[0] === 'audit') return auditCommand(argv.slice(1), io);
  if (argv[0] === 'explain') return explainCommand(argv.slice(1), io);
  if (argv[0] === 'codegen') return codegenCommand(argv.slice(1), io);
  if (argv[0] === 'refs') return refsCommand(argv.slice(1), io);
  // The daemon's modules (servers, sources, gRPC, AWS SDK) load only for the daemon: a client
  // command starts in a tenth of the time without them.
  const [{ parseConfig }, { startDaemon }, { createLogger }] = await Promise.all([import('./config/parse.js'), import('./daemon.js'), import('./telemetry/logger.js')]);
  const parsed = parseConfig(argv, env);
  switch (parsed.kind) {
    case 'help':
    case 'version':
      process.stdout.write(parsed.text.endsWith('\n') ? parsed.text : `${parsed.text}\n`);
      return 0;
    case 'error':
      process.stderr.write(`vexil: ${parsed.message}\n`);
      return 2;
  }
  const config = parsed.config;
  const logger = createLogger({ format: config.logFormat, debug: config.debug });
  for (const w of parsed.warnings) logger.warn(w);
  if (config.sources.length === 0) logger.warn('no flag sources configured (-f/--uri or -s/--sources): serving an empty flag set');

  let daemon;
  try {
    daemon = await startDaemon(config, { logger });
  } catch (err) {
    logger.fatal({ err }, `vexil could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: draining calls and closing streams');
      // Draining has its own grace periods; this only guards against a stop that never ends.
      const guard = setTimeout(() => {
        logger.error('shutdown did not finish in 20 s; exiting');
        resolve(1);
      }, 20_000);
      guard.unref();
      daemon.stop().then(
        () => {
          logger.info('stopped');
          resolve(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
