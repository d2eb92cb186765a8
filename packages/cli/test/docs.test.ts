import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The docs' TypeScript blocks are compiled: each ```ts block in README.md and docs/*.md is preceded
 * by `<!-- snippet: name -->` and is byte-identical to the region `// #region name` … `// #endregion`
 * of a file in docs/snippets/, which `tsc -b` compiles with the rest of the repository. A block that
 * drifts from its region, or an API change that breaks a region, fails the build or this test.
 */
const REPOSITORY = path.resolve(__dirname, '../../../..');
const SNIPPETS = path.join(REPOSITORY, 'docs/snippets');

interface DocBlock { doc: string; line: number; name?: string; code: string }

function docBlocks(doc: string): DocBlock[] {
  const lines = readFileSync(path.join(REPOSITORY, doc), 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```ts') continue;
    const end = lines.indexOf('```', i + 1);
    let previous = i - 1;
    while (previous >= 0 && lines[previous]!.trim() === '') previous--;
    const marker = /^<!-- snippet: ([\w-]+) -->$/.exec(lines[previous] ?? '');
    blocks.push({ doc, line: i + 1, name: marker?.[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

function snippetRegions(): Map<string, { file: string; code: string }> {
  const regions = new Map<string, { file: string; code: string }>();
  for (const file of readdirSync(SNIPPETS).filter((f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts'))) {
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
  const blocks = DOCS.flatMap(docBlocks);
  const regions = snippetRegions();

  it('are found: README.md\'s example among them', () => {
    expect(blocks.find((b) => b.doc === 'README.md')?.code).to.contain('Warren.start(');
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
