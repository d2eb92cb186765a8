import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { ConfigurationError } from '@warren/core';

/** The serialisations documents are written in. */
export type DocumentFormat = 'yaml' | 'json';

/** The format an output file's extension asks for (`.json` → JSON, `.yaml` / `.yml` → YAML). */
export function formatForFile(file: string): DocumentFormat {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.json') return 'json';
  if (extension === '.yaml' || extension === '.yml') return 'yaml';
  throw new ConfigurationError(`Cannot tell the format of "${file}": name it *.yaml, *.yml or *.json.`);
}

export function serialize(document: unknown, format: DocumentFormat): string {
  // aliasDuplicateObjects: false keeps shared objects written out in full; anchors confuse some AsyncAPI tools.
  return format === 'json' ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 });
}

/** Writes a document to `file` (format from its extension), or to stdout in `format`. */
export function writeDocument(document: unknown, file: string | undefined, format: DocumentFormat = 'yaml'): void {
  if (file) writeFileSync(file, serialize(document, formatForFile(file)));
  else process.stdout.write(serialize(document, format));
}
