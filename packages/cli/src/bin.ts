#!/usr/bin/env node
import { Argument, Command, Option } from 'commander';
import { beginIntrospection } from '@warren/core';
import { asyncapiCommand } from './commands/asyncapi';
import { contractDiffCommand } from './commands/contract';
import { dlqListCommand, dlqReplayCommand, dlqShowCommand } from './commands/dlq';
import { generateCommand, type GeneratedKind } from './commands/generate';
import { newCommand } from './commands/new';
import { topologyCommand } from './commands/topology';
import { uiCommand } from './commands/ui';
import { replayCommand } from './commands/replay';
import { ExitCode } from './exit-codes';
import { runCommand } from './run-command';

// The CLI never runs a service: for the whole process, a Warren.start / Warren.run in a loaded
// module (even one called later, after an await) only records its options. See introspection.ts.
beginIntrospection();

// Commander wiring only: each action lives in src/commands/<name>.ts and returns an exit code.
const program = new Command('warren')
  .description('Warren service tools: AsyncAPI documents, topology, contract checks, dead letters, stream replays, an operations console, scaffolding.')
  .version(require('../../package.json').version as string, '-V, --version')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride((error) => {
    // Commander exits 1 on usage mistakes; warren's 1 means "findings", so usage errors get 2.
    process.exit(error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE);
  })
  .addHelpText('after', `
Exit codes: 0 ok · 1 findings (breaking changes, dead routes with --strict, topology drift) · 2 usage,
configuration or connection error · 70 internal error. Broker URLs are printed with their password as ***.`);

const act = (action: (...args: never[]) => ExitCode | Promise<ExitCode>) => async (...args: unknown[]) => {
  process.exitCode = await runCommand(() => action(...(args as never[])));
};

program.command('new')
  .description('Create a service: package.json, tsconfig, src/main.ts, a message class, a consumer, a publisher, tests, README, .env.example.')
  .argument('<name>', 'the package name, e.g. billing or @acme/billing (the unscoped part names the folder, exchange and queues)')
  .option('--dir <path>', 'the folder to create it in (default: ./<name without scope>); must be empty or absent')
  .addHelpText('after', `
Inside the Warren repository the @warren/* dependencies are file: references to its packages;
elsewhere they are the published versions. The new service runs on the embedded broker until
AMQP_URL is set.

Examples:
  $ warren new billing
  $ warren new @acme/billing --dir services/billing
  $ cd billing && npm install && npm test && npm start`)
  .action(act((name: string, options) => newCommand(name, options)));

program.command('generate')
  .description('Add a consumer or a publisher, with its message class and a test, to a service made by warren new.')
  .addArgument(new Argument('<kind>', 'what to add').choices(['consumer', 'publisher']))
  .argument('<Name>', 'the message name, e.g. InvoicePaid: class InvoicePaid, InvoicePaidConsumer, routing key invoice.paid')
  .option('--dir <path>', 'the service folder (default: the current folder)')
  .addHelpText('after', `
Writes src/messages/<name>.ts (reused when it exists), src/handlers/<name>.consumer.ts or
.publisher.ts, and test/<name>.<kind>.test.ts, on the exchange named after the service. Never
overwrites a file: an existing handler or test stops the command before anything is written.

Examples:
  $ warren generate consumer InvoicePaid
  $ warren generate publisher invoice-paid --dir services/billing`)
  .action(act((kind: GeneratedKind, name: string, options) => generateCommand(kind, name, options)));

program.command('asyncapi')
  .description('Generate an AsyncAPI 3.0.0 document from the decorators of a service\'s compiled modules.')
  .argument('<entry...>', 'compiled .js modules (or quoted globs) exporting @Consumer handler and @Publisher classes, or the main.js that starts them')
  .option('-o, --output <file>', 'write to a file; .yaml/.yml → YAML, .json → JSON (default: YAML on stdout)')
  .addOption(new Option('--format <format>', 'format on stdout').choices(['yaml', 'json']).default('yaml'))
  .option('--url <amqp-url>', 'broker URL(s) for the servers section (default: $AMQP_URL); the password is never written')
  .option('--title <title>', 'info.title (default: name in the nearest package.json)')
  .option('--app-version <version>', 'info.version (default: version in the nearest package.json)')
  .option('--description <text>', 'info.description (default: description in the nearest package.json)')
  .addHelpText('after', `
Examples:
  $ warren asyncapi dist/src/handlers.js -o asyncapi.yaml
  $ warren asyncapi "dist/src/**/*.handlers.js" --format json > asyncapi.json
  $ AMQP_URL=amqps://app:secret@mq.example.com/prod warren asyncapi dist/src/handlers.js --app-version 2.1.0`)
  .action(act((entries: string[], options) => asyncapiCommand(entries, options)));

program.command('topology')
  .description('Show exchanges → bindings → queues (with retry and dead-letter queues) of one or more services, and flag dead routes.')
  .argument('<entry...>', 'one compiled module or quoted glob per service')
  .addOption(new Option('--format <format>', 'output format').choices(['text', 'mermaid', 'dot']).default('text'))
  .option('--strict', 'exit 1 when a route has no consumer, a binding has no publisher, or an exchange is declared two ways')
  .option('--check [amqp-url]', 'compare the declared queues with a live broker instead (default: $AMQP_URL; exit 1 on missing queues or differing arguments)')
  .option('--print', 'print what an administrator must create for services running with declare: false, as JSON definitions for rabbitmqctl import_definitions')
  .option('--vhost <vhost>', 'the vhost written into --print definitions', '/')
  .addHelpText('after', `
Dead routes are judged across the services given: a publisher route that no consumer binds (topic
wildcards, fanout and headers exchanges included) and a consumer binding that no publisher feeds.
--check changes nothing on the broker: it declares only queues that already exist, with the code's
arguments, so RabbitMQ answers "arguments differ" where a deploy would be refused.

Examples:
  $ warren topology dist/src/handlers.js
  $ warren topology ../orders/dist/src/handlers.js ../billing/dist/src/handlers.js --strict
  $ warren topology "dist/src/**/*.handlers.js" --format mermaid > topology.mmd
  $ warren topology dist/src/handlers.js --format dot | dot -Tsvg > topology.svg
  $ AMQP_URL=amqp://… warren topology dist/src/main.js --check
  $ warren topology dist/src/handlers.js --print --vhost orders > definitions.json && rabbitmqctl import_definitions definitions.json`)
  .action(act((entries: string[], options) => topologyCommand(entries, options)));

const contract = program.command('contract').description('Check message contracts between versions of a service.');
contract.command('diff')
  .description('Compare two AsyncAPI 3 documents and report changes that break publishers or consumers.')
  .argument('<old>', 'the published contract (YAML or JSON)')
  .argument('<new>', 'the contract of the new build (YAML or JSON)')
  .option('--json', 'print the changes as JSON: { breaking: [...], compatible: [...] }')
  .addHelpText('after', `
Breaking for the services sending to a receive operation: a required field added, a type changed, an
enum value removed, a constraint tightened. Breaking for the services consuming a send operation: a
required field removed, a type changed, an enum value added, a constraint relaxed. Removed operations
and moved channels break both. Exit code 1 when anything breaks, 0 otherwise.

Examples:
  $ warren asyncapi dist/src/handlers.js -o asyncapi.new.yaml
  $ warren contract diff asyncapi.yaml asyncapi.new.yaml
  $ git show main:asyncapi.yaml > /tmp/main.yaml && warren contract diff /tmp/main.yaml asyncapi.yaml --json`)
  .action(act((oldFile: string, newFile: string, options) => contractDiffCommand(oldFile, newFile, options)));

const dlq = program.command('dlq').description('Inspect and replay a dead-letter queue (x-warren-error-* reason headers). Each command reads the queue it is given, e.g. billing.order-created.dlq, and says so on stderr.');
const urlOption = () => new Option('--url <amqp-url>', 'broker URL (default: $AMQP_URL)');
dlq.command('list')
  .description('List messages with their message id, error code, origin and attempts, leaving them in the queue.')
  .argument('<queue>', 'the dead-letter queue, e.g. billing.order-created.dlq')
  .addOption(urlOption())
  .option('--limit <n>', 'read at most n messages (default 50, at most 1000)')
  .option('--json', 'print JSON')
  .addHelpText('after', `
Examples:
  $ warren dlq list billing.order-created.dlq --url amqp://guest:guest@localhost:5672
  $ AMQP_URL=amqp://… warren dlq list billing.order-created.dlq --json --limit 500`)
  .action(act((queue: string, options) => dlqListCommand(queue, options)));
dlq.command('show')
  .description('Show one message: reason headers, all headers and a body preview (the first message, or the one with the id).')
  .argument('<queue>', 'the dead-letter queue')
  .argument('[messageId]', 'the message to show (default: the first)')
  .addOption(urlOption())
  .option('--limit <n>', 'look at most this far into the queue for the id (default 1000)')
  .addHelpText('after', `
Examples:
  $ warren dlq show billing.order-created.dlq
  $ warren dlq show billing.order-created.dlq 3f1c2a7e-…`)
  .action(act((queue: string, messageId: string | undefined, options) => dlqShowCommand(queue, messageId, options)));
dlq.command('replay')
  .description('Send messages back to the queue that failed them (through the default exchange), then remove them.')
  .argument('<queue>', 'the dead-letter queue')
  .addOption(urlOption())
  .option('--queue <name>', 'the consumer queue to send them to (default: the dead-letter queue\'s name without .dlq)')
  .option('--filter <text>', 'only messages whose error code equals the text or whose original routing key contains it')
  .option('--limit <n>', 'replay at most n messages')
  .addHelpText('after', `
Messages go back to the consumer's queue, never to an exchange a header names; a message recorded
as failed in another queue stays put (exit 1). Failure headers (x-warren-error-*, attempts, x-death)
are removed so the consumer retries afresh; x-warren-replayed counts replays. A message whose queue
is gone stays put (exit 1). Progress goes to stderr every 100 messages.

Examples:
  $ warren dlq replay billing.order-created.dlq --filter HANDLER_FAILED
  $ warren dlq replay billing.order-created.dlq --filter order.created --limit 10`)
  .action(act((queue: string, options) => dlqReplayCommand(queue, options)));

program.command('ui')
  .description('Serve the operations console: the service\'s wiring with live queue numbers, dead letters grouped by cause (replay, discard), and its contracts.')
  .argument('<entry...>', 'compiled .js modules (or quoted globs) exporting the service\'s @Consumer handler and @Publisher classes, or its main.js')
  .option('--amqp <amqp-url>', 'the broker whose dead letters it shows (default: $AMQP_URL; without one, wiring and contracts only)')
  .option('--management <url>', 'RabbitMQ management API for live numbers (default: the broker\'s host on port 15672, same credentials)')
  .option('--no-management', 'show no live numbers')
  .option('--port <port>', 'port to listen on (0: any free port)', '4300')
  .option('--host <address>', 'address to listen on; anything but loopback exposes the console to the network', '127.0.0.1')
  .option('--allow-actions', 'offer replay and discard; each needs the token printed at start')
  .addHelpText('after', `
The console is read-only unless started with --allow-actions; even then every replay or discard
needs the token printed at start (the printed URL carries it in its #fragment, which never leaves the
browser). It answers only requests addressed to localhost / 127.0.0.1, and no broker credentials ever
reach the page. Runs until Ctrl+C.

Examples:
  $ warren ui dist/src/main.js --amqp amqp://guest:guest@localhost:5672
  $ AMQP_URL=amqp://… warren ui dist/src/handlers.js --allow-actions --port 8080
  $ warren ui dist/src/handlers.js --management https://monitor:secret@mq.example.com:15671`)
  .action(act((entries: string[], options) => uiCommand(entries, options)));

program.command('replay')
  .description('Read a stream again through a stream consumer\'s own handler, as a second reader: its stored offset is left alone.')
  .argument('<consumer>', 'the stream consumer, as Class.method or its queue name')
  .argument('<entry...>', 'the service\'s compiled main module (whose Warren.start options are used) or its handler modules')
  .requiredOption('--since <time|offset>', 'where to start: an offset (1042), a time (2024-05-01T12:00:00Z), a span back from now (30s, 15m, 2h, 7d) or first')
  .option('--until <offset>', 'the last offset to replay (default: what the consumer has processed, from its offset store; else until nothing more arrives)')
  .option('--idle-ms <ms>', 'stop once nothing has arrived for this long (default 3000)')
  .addOption(new Option('--url <amqp-url>', 'broker URL (default: the service\'s own, else $AMQP_URL)'))
  .addHelpText('after', `
The service is started from the options its Warren.start / Warren.run call passes (container,
offset store, codecs, middleware…) with no consumer attached; only the replay reads. Failures are
retried and dead-lettered as the consumer's own are (exit 1 when any was dead-lettered). Handlers
see each message as they did the first time (ctx.streamOffset tells which one): make them
idempotent, or check the offset, where an effect must not repeat.

Examples:
  $ warren replay AuditLog.record dist/src/main.js --since 2h
  $ warren replay AuditLog.record dist/src/main.js --since 2024-05-01T12:00:00Z --until 50211
  $ AMQP_URL=amqp://… warren replay audit.log dist/src/handlers.js --since 1042`)
  .action(act((consumer: string, entries: string[], options) => replayCommand(consumer, entries, options)));

// Exit when the command is done, whatever a loaded module left running (timers, sockets); stdout
// is flushed first so piped output is complete.
void program.parseAsync(process.argv).then(() => {
  process.stdout.write('', () => process.exit(process.exitCode ?? 0));
});
