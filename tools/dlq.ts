// npm run dlq -- list <queue> | replay <queue> [--id <messageId>] [--limit N] | purge <queue> --yes
import { DeadLetterTool, DeadLetterToolError } from '@app/messaging';

const USAGE = `Usage:
  npm run dlq -- list <queue>                                  dead letters grouped by exception, oldest first
  npm run dlq -- replay <queue> [--id <messageId>] [--limit N] back to the origin queue only, retry count reset
  npm run dlq -- purge <queue> --yes                           delete them
<queue> is the origin queue (email.user.registered) or its DLQ (email.user.registered.dlq).
The broker is AMQP_URL (default amqp://guest:guest@127.0.0.1:5672).`;

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function main(args: string[]): Promise<number> {
  const [command, queue] = args;
  if (!command || !queue || !['list', 'replay', 'purge'].includes(command)) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const limitText = option(args, '--limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    process.stderr.write('--limit must be a positive integer.\n');
    return 64;
  }
  if (command === 'purge' && !args.includes('--yes')) {
    process.stderr.write(`purge deletes every dead letter of ${queue}; add --yes to confirm.\n`);
    return 64;
  }
  const tool = await DeadLetterTool.connect(
    process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  );
  try {
    if (command === 'list') {
      const summary = await tool.list(queue);
      process.stdout.write(`${summary.deadLetterQueue}: ${summary.total} dead letter(s)\n`);
      for (const group of summary.groups) {
        process.stdout.write(
          `${String(group.count).padStart(6)}  ${group.exceptionType.padEnd(20)} ${group.oldestFailedAt || '-'}  ${group.message}\n`,
        );
      }
    } else if (command === 'replay') {
      const id = option(args, '--id');
      const replayed = await tool.replay(queue, {
        ...(id ? { id } : {}),
        ...(limit ? { limit } : {}),
      });
      process.stdout.write(`replayed ${replayed} message(s) to ${queue.replace(/\.dlq$/, '')}\n`);
      if (id && replayed === 0) {
        process.stderr.write(`No dead letter with message id ${id} in ${queue}.\n`);
        return 1;
      }
    } else {
      process.stdout.write(`purged ${await tool.purge(queue)} message(s)\n`);
    }
    return 0;
  } finally {
    await tool.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof DeadLetterToolError ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
