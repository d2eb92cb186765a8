import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ConfigurationError } from '@warren/core';

/** The folder that holds the `service`, `consumer` and `publisher` templates (shipped with the package). */
export const TEMPLATES_DIR = path.resolve(__dirname, '../../../templates');

/** Values for a template's `{{placeholder}}`s. */
export type TemplateValues = Readonly<Record<string, string>>;

/** One file a template produces, before anything is written. */
export interface RenderedFile {
  /** Relative to the target folder, `/`-separated. */
  path: string;
  content: string;
}

/**
 * Replaces every `{{name}}` in a text. A placeholder without a value is a bug in the template, so it
 * throws rather than leave braces in the user's code.
 *
 * @example
 * ```ts
 * fillPlaceholders('@Publisher(\'{{exchange}}\')', { exchange: 'billing' }); // "@Publisher('billing')"
 * ```
 */
export function fillPlaceholders(text: string, values: TemplateValues): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return value;
  });
}

/**
 * Reads a template folder and fills in its file names and contents. `_gitignore` becomes
 * `.gitignore`: npm leaves files named `.gitignore` out of published packages.
 *
 * @example
 * ```ts
 * renderTemplate('consumer', { className: 'InvoicePaid', fileName: 'invoice-paid', … });
 * // [{ path: 'src/handlers/invoice-paid.consumer.ts', content: '…' }, …]
 * ```
 */
export function renderTemplate(template: string, values: TemplateValues): RenderedFile[] {
  const root = path.join(TEMPLATES_DIR, template);
  const files: RenderedFile[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      else {
        const relative = path.relative(root, full).split(path.sep).join('/').replace(/(^|\/)_gitignore$/, '$1.gitignore');
        files.push({ path: fillPlaceholders(relative, values), content: fillPlaceholders(readFileSync(full, 'utf8'), values) });
      }
    }
  };
  visit(root);
  return files.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Writes rendered files under `targetDir`, creating folders. Refuses, before writing anything, when
 * one of them exists already: a generator must never overwrite someone's code.
 */
export function writeNewFiles(targetDir: string, files: readonly RenderedFile[]): void {
  const existing = files.filter((file) => existsSync(path.join(targetDir, file.path)));
  if (existing.length) {
    throw new ConfigurationError(`Not overwriting ${existing.map((f) => f.path).join(', ')} in ${targetDir}: move or rename ${existing.length === 1 ? 'it' : 'them'}, or pick another name.`);
  }
  for (const file of files) {
    const target = path.join(targetDir, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
}
