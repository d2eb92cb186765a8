// Bundles the console's page (ui/src, Preact + dagre) into dist/ui: index.html, app.js, app.css.
// Run by `npm run build` (root and packages/cli) and by prepack, so the published package carries
// the page and needs nothing from the network at run time. Type-checking is `tsc -p ui`, run first.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'dist', 'ui');
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
console.log(`console page: ${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB in ${out}`);
