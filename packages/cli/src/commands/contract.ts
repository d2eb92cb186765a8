import { existsSync, readFileSync } from 'node:fs';
import { ConfigurationError } from '@warren/core';
import { parse } from 'yaml';
import { diffContracts, formatContractReport } from '../contract-diff';
import { ExitCode } from '../exit-codes';
import type { JsonSchema } from '../json-schema';

/** `warren contract diff <old> <new>`: exit 1 when the new document breaks a publisher or consumer. */
export function contractDiffCommand(oldFile: string, newFile: string, options: { json?: boolean }): ExitCode {
  const changes = diffContracts(readAsyncApi(oldFile), readAsyncApi(newFile));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ breaking: changes.filter((c) => c.breaking), compatible: changes.filter((c) => !c.breaking) }, null, 2)}\n`);
  } else {
    process.stdout.write(formatContractReport(changes));
  }
  return changes.some((c) => c.breaking) ? ExitCode.FINDINGS : ExitCode.OK;
}

function readAsyncApi(file: string): JsonSchema {
  if (!existsSync(file)) throw new ConfigurationError(`${file}: no such file. Generate it with: warren asyncapi <entry> -o ${file}`);
  let document: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    document = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`${file} is neither valid YAML nor JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  const version = (document as JsonSchema | null)?.asyncapi;
  if (typeof version !== 'string' || !version.startsWith('3.')) {
    throw new ConfigurationError(`${file} is not an AsyncAPI 3 document (asyncapi: ${JSON.stringify(version ?? null)}); warren contract diff compares AsyncAPI 3.x documents such as those warren asyncapi writes.`);
  }
  return document as JsonSchema;
}
