import { ConfigurationError, redactUrl } from '@warren/core';
import { connectTo } from '../broker-connection';
import { ExitCode } from '../exit-codes';
import { loadService } from '../service-loader';
import { checkQueues } from '../topology-check';
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
 * prints their joint topology and findings, or with `--check [url]` (default `$AMQP_URL`) compares the queues with a broker.
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
      // Route hops are left out: a route that never sent a delayed message has none yet.
      const checks = await checkQueues(transport, [...model.queues, ...startDelayQueues(model)]);
      process.stdout.write(`Queues on ${redactUrl(url)}\n`);
      for (const check of checks) {
        process.stdout.write(`  ${check.status === 'ok' ? '✓' : '✗'} ${check.queue}: ${check.status}${check.detail ? ` — ${check.detail}` : ''}\n`);
      }
      const problems = checks.filter((c) => c.status !== 'ok').length;
      process.stdout.write(problems ? `${problems} of ${checks.length} queue(s) would not declare as the code does.\n` : `All ${checks.length} queue(s) match.\n`);
      return problems ? ExitCode.FINDINGS : ExitCode.OK;
    } finally {
      await transport.close();
    }
  }
  process.stdout.write(renderTopology(model, options.format));
  return options.strict && model.findings.length ? ExitCode.FINDINGS : ExitCode.OK;
}
