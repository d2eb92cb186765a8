import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { linkDependencies, runNode } from './support/outside-project';

/**
 * The docs' TypeScript blocks are compiled: each ```ts block in README.md and docs/*.md is preceded
 * by `<!-- snippet: name -->` and is byte-identical to the region `// #region name` … `// #endregion`
 * of a file in docs/snippets/, which `tsc -b` compiles with the rest of the repository. A block that
 * drifts from its region, or an API change that breaks a region, fails the build or this test.
 *
 * docs/snippets/project is getting-started.md's project (and README.md's example) as a user writes
 * it: its package.json and tsconfig.json are the page's ```json blocks (`<!-- file: path -->`), and
 * it is compiled, tested and started in a fresh folder outside the repository.
 */
const REPOSITORY = path.resolve(__dirname, '../../../..');
const SNIPPETS = path.join(REPOSITORY, 'docs/snippets');

const PROJECT = path.join(SNIPPETS, 'project');

interface DocBlock { doc: string; line: number; name?: string; code: string }

function docBlocks(doc: string, fence = '```ts', marker = /^<!-- snippet: ([\w-]+) -->$/): DocBlock[] {
  const lines = readFileSync(path.join(REPOSITORY, doc), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== fence) continue;
    const end = lines.indexOf('```', i + 1);
    let previous = i - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const name = marker.exec(lines[previous] ?? '');
    blocks.push({ doc, line: i + 1, name: name?.[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** Snippet sources, top level and in docs/snippets/project, relative to docs/snippets. */
function snippetSources(): string[] {
  return readdirSync(SNIPPETS, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts') && !f.split(path.sep).some((part) => part === 'dist' || part === 'node_modules'));
}

function snippetRegions(): Map<string, { file: string; code: string }> {
  const regions = new Map<string, { file: string; code: string }>();
  for (const file of snippetSources()) {
    const text = readFileSync(path.join(SNIPPETS, file), 'utf8');
    for (const match of text.matchAll(/^\/\/ #region ([\w-]+)\n([\s\S]*?)\n\/\/ #endregion \1$/gm)) {
      expect(regions.has(match[1]!), `region ${match[1]} is defined twice`).to.equal(false);
      regions.set(match[1]!, { file, code: match[2]! });
    }
  }
  return regions;
}

const DOCS = ['README.md', ...readdirSync(path.join(REPOSITORY, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('code blocks in the docs', () => {
  const blocks = DOCS.flatMap((doc) => docBlocks(doc));
  const regions = snippetRegions();

  it('are found: README.md\'s example among them', () => {
    expect(blocks.find((b) => b.doc === 'README.md')?.code).to.contain('Warren.run(');
    expect(blocks.length).to.be.greaterThan(20);
  });

  it('each name the snippet region that compiles them', () => {
    const unnamed = blocks.filter((b) => !b.name).map((b) => `${b.doc}:${b.line}`);
    expect(unnamed, 'put <!-- snippet: name --> before these ```ts blocks and the code in docs/snippets').to.deep.equal([]);
  });

  it('are identical to their regions in docs/snippets', () => {
    for (const block of blocks.filter((b) => b.name)) {
      const region = regions.get(block.name!);
      expect(region, `${block.doc}:${block.line} names ${block.name}, which no file in docs/snippets defines`).not.to.equal(undefined);
      expect(block.code, `${block.doc}:${block.line} differs from region ${block.name} in docs/snippets/${region!.file}`).to.equal(region!.code);
    }
  });

  it('leave no region unused, so the snippets cannot drift from the docs unnoticed', () => {
    const used = new Set(blocks.map((b) => b.name));
    expect([...regions.keys()].filter((name) => !used.has(name))).to.deep.equal([]);
  });

  it('were compiled by the build (docs/snippets is a project of the root tsconfig.json)', () => {
    const sources = readdirSync(SNIPPETS).filter((f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts'));
    for (const source of sources) {
      const output = path.join(SNIPPETS, 'dist', source.replace(/\.mts$/, '.mjs').replace(/\.ts$/, '.js'));
      expect(existsSync(output), `${output} is missing`).to.equal(true);
    }
  });
});

describe('getting-started.md\'s project, outside the repository', function () {
  this.timeout(180_000);
  let project: string;

  before(() => {
    project = mkdtempSync(path.join(tmpdir(), 'warren-docs-project-'));
    cpSync(PROJECT, project, { recursive: true, filter: (source) => !/[\\/](dist|node_modules)$/.test(source) });
    linkDependencies(project);
  });
  after(() => { if (project) rmSync(project, { recursive: true, force: true }); });

  it('has the package.json and tsconfig.json that getting-started.md shows', () => {
    const files = docBlocks('docs/getting-started.md', '```json', /^<!-- file: ([\w./-]+) -->$/);
    expect(files.map((f) => f.name)).to.deep.equal(['docs/snippets/project/package.json', 'docs/snippets/project/tsconfig.json']);
    for (const file of files) expect(`${file.code}\n`, file.name).to.equal(readFileSync(path.join(REPOSITORY, file.name!), 'utf8'));
    const manifest = JSON.parse(readFileSync(path.join(PROJECT, 'package.json'), 'utf8')) as { type?: string; devDependencies: Record<string, string> };
    expect(manifest.type, 'a default npm init project is CommonJS').to.equal(undefined);
    expect(manifest.devDependencies).to.include.keys('@types/node', 'typescript');
  });

  it('compiles with its own tsconfig.json (README.md\'s example among the files), and its tests pass', async () => {
    const compiled = await runNode([path.join(REPOSITORY, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);
    expect(compiled.code, compiled.stdout + compiled.stderr).to.equal(0);
    expect(existsSync(path.join(project, 'dist/src/readme.js'))).to.equal(true);
    const tested = await runNode([path.join(REPOSITORY, 'node_modules/mocha/bin/mocha.js'), '--exit', '--reporter', 'dot', 'dist/test/**/*.test.js'], project);
    expect(tested.code, tested.stdout + tested.stderr).to.equal(0);
    expect(tested.stdout).to.contain('2 passing');
  });

  for (const main of ['dist/src/main.js', 'dist/src/readme.js']) {
    it(`runs ${main} with node on the embedded broker: it handles the order it sends, and exits 0 on SIGTERM`, async () => {
      const child = spawn(process.execPath, [main], { cwd: project, env: { ...process.env, AMQP_URL: '', NODE_ENV: 'development' } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (!/charg(ed|ing) (order )?[0-9a-f-]{36}/.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      expect(output).to.contain('warren started');
      expect(output).to.match(/charg(ed|ing) (order )?[0-9a-f-]{36}/);
      expect(code, output).to.equal(0);
      expect(output).to.contain('warren stopped');
    });
  }
});
