import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '@warren/core';
import { ExitCode } from '../exit-codes';
import { messageNames, serviceNames } from '../scaffold/names';
import { renderTemplate, writeNewFiles } from '../scaffold/templates';

/** What `warren generate` can add to a service. */
export type GeneratedKind = 'consumer' | 'publisher';

export interface GenerateCommandOptions {
  /** The service's folder (default: the current one). */
  dir?: string;
}

/** Where the message class of a generated handler lives; it is shared by a consumer and a publisher of one name. */
const messageFile = (fileName: string) => `src/messages/${fileName}.ts`;

/**
 * `warren generate consumer|publisher <Name>`: adds a handler (or publisher) class, its message class
 * and a test to the service in `--dir`. The exchange is the service's name; an existing message class
 * of the same name is reused; any other existing file stops the command before it writes anything.
 */
export function generateCommand(kind: GeneratedKind, name: string, options: GenerateCommandOptions): ExitCode {
  const serviceDir = path.resolve(options.dir ?? '.');
  const manifest = path.join(serviceDir, 'package.json');
  if (!existsSync(manifest)) throw new ConfigurationError(`No package.json in ${serviceDir}: run warren generate in a service folder (made with warren new), or pass --dir.`);
  const exchange = serviceNames(String((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name ?? '')).serviceName;
  const names = messageNames(name);
  const queue = `${exchange}.${names.fileName}`;

  const files = renderTemplate(kind, { ...names, exchange, queue });
  const reused = files.filter((file) => file.path === messageFile(names.fileName) && existsSync(path.join(serviceDir, file.path)));
  writeNewFiles(serviceDir, files.filter((file) => !reused.includes(file)));

  const handlerClass = `${names.className}${kind === 'consumer' ? 'Consumer' : 'Publisher'}`;
  const lines = [
    `Added ${handlerClass} (${kind === 'consumer' ? `queue ${queue} ← ` : ''}${exchange} / ${names.routingKey}):`,
    ...files.map((file) => `  ${file.path}${reused.includes(file) ? ' (exists: reused)' : ''}`),
    '',
    startupHint(serviceDir, handlerClass, kind),
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return ExitCode.OK;
}

/** Whether main.ts already picks the new class up, and if not, what to add where. */
function startupHint(serviceDir: string, handlerClass: string, kind: GeneratedKind): string {
  const main = path.join(serviceDir, 'src/main.ts');
  const source = existsSync(main) ? readFileSync(main, 'utf8') : '';
  if (/scanModules\(\s*\[\s*'handlers\/\*\*\/\*\.js'/.test(source) || source.includes("scan: ['dist/src/handlers/**/*.js']")) {
    return `src/main.ts loads every module in src/handlers, so ${handlerClass} starts with the service.`;
  }
  return `Add ${handlerClass} to the ${kind === 'consumer' ? 'handlers' : 'publishers'} list of Warren.start() / Warren.run() in src/main.ts (or inject it into a handler).`;
}
