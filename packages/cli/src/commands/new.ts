import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '@warren/core';
import { ExitCode } from '../exit-codes';
import { serviceNames } from '../scaffold/names';
import { warrenDependencies } from '../scaffold/monorepo';
import { renderTemplate, writeNewFiles } from '../scaffold/templates';

export interface NewCommandOptions {
  /** Where to create the service (default: `./<name without scope>`). */
  dir?: string;
}

/**
 * `warren new <name>`: creates a service from the `service` template in a new (or empty) folder and
 * prints the next steps.
 */
export function newCommand(name: string, options: NewCommandOptions): ExitCode {
  const names = serviceNames(name);
  const target = path.resolve(options.dir ?? names.serviceName);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ConfigurationError(`${target} exists and is not empty: choose another --dir, or remove it first.`);
  }
  const dependencies = warrenDependencies(target);
  const files = renderTemplate('service', { ...names, warrenCore: dependencies.warrenCore, warrenTesting: dependencies.warrenTesting, warrenCli: dependencies.warrenCli });
  writeNewFiles(target, files);

  const shown = path.relative(process.cwd(), target) || '.';
  const lines = [`Created ${names.packageName} in ${shown}:`, ...files.map((file) => `  ${file.path}`), ''];
  const { repository } = dependencies;
  // The scripts run node with --preserve-symlinks, so linked @warren/* packages resolve tsyringe and
  // class-transformer from the service's node_modules: one copy, which sees the service's decorators.
  if (repository) lines.push(`Inside the Warren repository: @warren/* are file: references to ${path.join(repository, 'packages')}.`);
  lines.push('', 'Next:', `  cd ${shown}`, '  npm install', '  npm test                      # on the in-memory broker', '  npm start                     # embedded broker; set AMQP_URL for RabbitMQ', '');
  process.stdout.write(lines.join('\n'));
  return ExitCode.OK;
}
