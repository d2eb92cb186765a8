import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '@warren/core';
import { ExitCode } from '../exit-codes';
import { serviceNames } from '../scaffold/names';
import { isWorkspace, warrenDependencies } from '../scaffold/monorepo';
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
  if (repository) lines.push(`Inside the Warren repository: @warren/* are file: references to ${path.join(repository, 'packages')}.`);
  if (repository && !isWorkspace(repository, target)) {
    // Its own node_modules would hold a second tsyringe and class-transformer that @warren/core cannot see.
    lines.push(`Add ${path.relative(repository, target)} to the "workspaces" of ${path.join(repository, 'package.json')} before installing.`);
  }
  const install = repository ? `  npm install --prefix ${repository}   # the repository root installs every workspace` : '  npm install';
  lines.push('', 'Next:', `  cd ${shown}`, install, '  npm test                      # on the in-memory broker', '  npm start                     # embedded broker; set AMQP_URL for RabbitMQ', '');
  process.stdout.write(lines.join('\n'));
  return ExitCode.OK;
}
