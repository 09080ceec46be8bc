import { type Logger } from 'pino';

/**
 * Makes a crash say why in the service's JSON log: an exception nothing caught, or a promise
 * rejection nothing handled, is logged as one `fatal` line with the error and its stack, and
 * the process exits with 1, as Node's default would (after printing plain text that a log
 * pipeline reading JSON drops). A supervisor restarts it; redelivery and the outbox recover
 * its work.
 */
export function reportCrashes(logger: Logger, service: string, exit = process.exit): void {
  const crash = (kind: string) => (error: unknown) => {
    logger.fatal({ err: error }, `${service} crashed on ${kind}; exiting`);
    exit(1);
  };
  process.on('uncaughtException', crash('an uncaught exception'));
  process.on('unhandledRejection', crash('an unhandled promise rejection'));
}
