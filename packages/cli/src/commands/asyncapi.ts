import { buildAsyncApi } from '../asyncapi';
import { ExitCode } from '../exit-codes';
import { writeDocument, type DocumentFormat } from '../output';
import { loadService } from '../service-loader';

export interface AsyncApiCommandOptions {
  output?: string;
  format?: DocumentFormat;
  url?: string;
  title?: string;
  appVersion?: string;
  description?: string;
}

/** `warren asyncapi [entry...]`: writes the service's AsyncAPI 3.0.0 document. */
export function asyncapiCommand(entries: string[], options: AsyncApiCommandOptions): ExitCode {
  const service = loadService(entries);
  const document = buildAsyncApi({
    title: options.title ?? service.packageJson?.name ?? 'Warren service',
    version: options.appVersion ?? service.packageJson?.version ?? '0.0.0',
    description: options.description ?? service.packageJson?.description,
    consumers: service.consumers,
    publishers: service.publishers,
    topology: service.topology,
    metadata: service.metadata,
    url: options.url ?? process.env.AMQP_URL,
  });
  writeDocument(document, options.output, options.format);
  if (options.output) process.stderr.write(`wrote ${options.output}: ${Object.keys(document.channels).length} channel(s), ${Object.keys(document.operations).length} operation(s)\n`);
  return ExitCode.OK;
}
