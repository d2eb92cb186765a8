import { ConfigurationError, redactUrl } from '@warren/core';
import { connectTo } from '../broker-connection';
import { ExitCode } from '../exit-codes';
import { loadService } from '../service-loader';
import { checkExchanges, checkQueues } from '../topology-check';
import { startDelayQueues } from '../topology-delays';
import { buildTopology } from '../topology-model';
import { renderTopology, type TopologyFormat } from '../topology-render';
import { topologyDefinitions } from '../topology-definitions';

export interface TopologyCommandOptions {
  format: TopologyFormat;
  /** Print the definitions an administrator must import for `declare: false`. */
  print?: boolean;
  vhost?: string;
  /** A broker URL, or `true` (the flag without a value) for `$AMQP_URL`. */
  check?: string | boolean;
  strict?: boolean;
}

/**
 * `warren topology <entry...>`: each entry is one service (a compiled module or a quoted glob);
 * prints their joint topology and findings, or with `--check [url]` (default `$AMQP_URL`) compares the exchanges and queues with a broker.
 */
export async function topologyCommand(entries: string[], options: TopologyCommandOptions): Promise<ExitCode> {
  const model = buildTopology(entries.map((entry) => loadService([entry])));
  if (options.print) {
    process.stdout.write(`${JSON.stringify(topologyDefinitions(model, options.vhost ?? '/'), null, 2)}\n`);
    return ExitCode.OK;
  }
  if (options.check) {
    const url = options.check === true ? process.env.AMQP_URL : options.check;
    if (!url) throw new ConfigurationError('--check needs a broker: pass --check amqp://user:password@host:5672/vhost or set AMQP_URL.');
    const transport = await connectTo(url, 'topology-check');
    try {
      const known = new Set(model.exchanges.map((e) => e.name));
      const elsewhere = [...new Set(model.exchangeBindings.flatMap((b) => [b.source, b.destination]))].filter((name) => !known.has(name));
      const exchanges = await checkExchanges(transport, model.exchanges, elsewhere);
      process.stdout.write(`Exchanges on ${redactUrl(url)}\n`);
      for (const check of exchanges) {
        const fine = check.status === 'ok' || check.status === 'exists';
        process.stdout.write(`  ${fine ? '✓' : '✗'} ${check.exchange}: ${check.status === 'exists' ? 'exists (declared elsewhere)' : check.status}${check.detail ? ` — ${check.detail}` : ''}\n`);
      }
      if (model.exchangeBindings.length) {
        process.stdout.write(`  (${model.exchangeBindings.length} exchange-to-exchange binding(s): their ends are checked above; AMQP cannot read a binding without creating it, so check those in the management UI or let the service declare them)\n`);
      }
      // Route hops are left out: a route that never sent a delayed message has none yet.
      const checks = await checkQueues(transport, [...model.queues, ...startDelayQueues(model)]);
      process.stdout.write(`Queues on ${redactUrl(url)}\n`);
      for (const check of checks) {
        process.stdout.write(`  ${check.status === 'ok' ? '✓' : '✗'} ${check.queue}: ${check.status}${check.detail ? ` — ${check.detail}` : ''}\n`);
      }
      const problems = checks.filter((c) => c.status !== 'ok').length;
      const exchangeProblems = exchanges.filter((c) => c.status !== 'ok' && c.status !== 'exists').length;
      process.stdout.write(exchangeProblems ? `${exchangeProblems} of ${exchanges.length} exchange(s) are missing or declared otherwise.\n` : `All ${exchanges.length} exchange(s) match.\n`);
      process.stdout.write(problems ? `${problems} of ${checks.length} queue(s) would not declare as the code does.\n` : `All ${checks.length} queue(s) match.\n`);
      return problems || exchangeProblems ? ExitCode.FINDINGS : ExitCode.OK;
    } finally {
      await transport.close();
    }
  }
  process.stdout.write(renderTopology(model, options.format));
  return options.strict && model.findings.length ? ExitCode.FINDINGS : ExitCode.OK;
}
