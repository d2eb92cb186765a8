import 'reflect-metadata';
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { IsString } from 'class-validator';
import { activeIntrospection, beginIntrospection, Consumer, MemoryTransport, silentLogger, Warren } from '../src';

/** packages/core: the package a second copy is made of. */
const PACKAGE = path.resolve(__dirname, '../..');

class Ping {
  @IsString() text!: string;
}

class Pings {
  @Consumer('introspection', 'ping', { queue: 'introspection.pings' })
  async handle(_ping: Ping) {}
}

function runNode(script: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script], { cwd, timeout: 60_000, env: { ...process.env, AMQP_URL: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('Two copies of @warren/core in one process', function () {
  this.timeout(60_000);
  let workDir: string;

  // The copy lives under packages/core/dist so that it resolves reflect-metadata, tsyringe and
  // class-validator from the repository's node_modules, as a nested npm copy would from its parents.
  before(() => {
    mkdirSync(path.join(PACKAGE, 'dist'), { recursive: true });
    workDir = mkdtempSync(path.join(PACKAGE, 'dist', 'second-copy-'));
    const copy = path.join(workDir, 'node_modules/@warren/core');
    cpSync(path.join(PACKAGE, 'package.json'), path.join(copy, 'package.json'));
    cpSync(path.join(PACKAGE, 'dist/src'), path.join(copy, 'dist/src'), { recursive: true });
  });
  after(() => { if (workDir) rmSync(workDir, { recursive: true, force: true }); });

  it('are refused at start with an error that names both folders and how to fix it', async () => {
    const first = path.join(PACKAGE, 'dist/src/index.js');
    const second = path.join(workDir, 'node_modules/@warren/core/dist/src/index.js');
    const script = `
      const a = require(${JSON.stringify(first)});
      require(${JSON.stringify(second)});
      a.Warren.start({ transport: new a.MemoryTransport(), logger: a.silentLogger })
        .then(() => { console.log('started'); process.exit(0); }, (e) => { console.log(e.code + ' ' + e.message); process.exit(0); });`;
    const { stdout, stderr } = await runNode(script, workDir);
    expect(stdout, stderr).to.match(/^CONFIGURATION Two copies of @warren\/core are loaded/);
    expect(stdout).to.contain(PACKAGE);
    expect(stdout).to.contain(path.join(workDir, 'node_modules/@warren/core'));
    expect(stdout).to.contain('npm dedupe');
  });

  it('one copy starts as usual', async () => {
    const script = `
      const a = require(${JSON.stringify(path.join(PACKAGE, 'dist/src/index.js'))});
      a.Warren.start({ transport: new a.MemoryTransport(), logger: a.silentLogger }).then((app) => app.close())
        .then(() => console.log('started and stopped'), (e) => console.log(e.message));`;
    const { stdout } = await runNode(script, workDir);
    expect(stdout.trim()).to.equal('started and stopped');
  });
});

describe('Introspection mode (what the warren CLI loads services in)', () => {
  it('records Warren.start\'s options and never connects: the returned promise stays pending', async () => {
    let connected = false;
    const transport = new MemoryTransport();
    Object.assign(transport, { connect: async () => { connected = true; } });
    const record = beginIntrospection();
    let settled = false;
    try {
      void Warren.start({ transport, handlers: [Pings], logger: silentLogger }).finally(() => { settled = true; });
      void Warren.run({ transport, handlers: [Pings], logger: silentLogger }).finally(() => { settled = true; });
    } finally {
      record.end();
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(record.started.map((options) => options.handlers)).to.deep.equal([[Pings], [Pings]]);
    expect(connected).to.equal(false);
    expect(settled).to.equal(false);
    expect(activeIntrospection()).to.equal(undefined);
  });

  it('nests: ending an inner record restores the outer one', () => {
    const outer = beginIntrospection();
    const inner = beginIntrospection();
    expect(activeIntrospection()).to.equal(inner);
    inner.end();
    expect(activeIntrospection()).to.equal(outer);
    outer.end();
    expect(activeIntrospection()).to.equal(undefined);
  });
});
