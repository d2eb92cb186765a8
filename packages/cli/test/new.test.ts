import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { messageNames } from '../src/scaffold/names';
import { runWarren } from './support/cli';
import { linkDependencies, REPOSITORY, runNode, type Run } from './support/outside-project';

describe('warren new and warren generate', function () {
  this.timeout(60_000);
  let workDir: string;
  let service: string;

  before(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'warren-new-'));
    service = path.join(workDir, 'billing');
    const created = await runWarren(['new', '@acme/billing', '--dir', service]);
    expect(created.code, created.stderr).to.equal(0);
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  it('creates a service with a message class, a consumer, a publisher, tests, README, .env.example and .gitignore', () => {
    for (const file of ['package.json', 'tsconfig.json', '.mocharc.json', 'README.md', '.env.example', '.gitignore', 'src/main.ts',
      'src/messages/task-submitted.ts', 'src/handlers/tasks.consumer.ts', 'src/handlers/task-events.publisher.ts', 'test/tasks.test.ts']) {
      expect(existsSync(path.join(service, file)), file).to.equal(true);
    }
    const files = readdirSync(service, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(path.join(service, f)).isFile());
    for (const file of files) expect(readFileSync(path.join(service, file), 'utf8'), `placeholder left in ${file}`).not.to.match(/\{\{\w+\}\}/);
    expect(readFileSync(path.join(service, 'src/handlers/tasks.consumer.ts'), 'utf8')).to.contain("@Consumer('billing', 'task.submitted', { queue: 'billing.task-submitted' })");
  });

  it('depends on the published Warren packages outside the Warren repository', () => {
    const manifest = JSON.parse(readFileSync(path.join(service, 'package.json'), 'utf8'));
    expect(manifest.name).to.equal('@acme/billing');
    expect(manifest.dependencies['@warren/core']).to.equal('^0.1.0');
    expect(manifest.devDependencies['@warren/testing']).to.equal('^0.1.0');
    expect(manifest.scripts.test).to.equal('tsc -p . && mocha');
  });

  it('depends on the workspace packages by file: reference inside the Warren repository', async () => {
    const repository = path.join(workDir, 'repo');
    mkdirSync(path.join(repository, 'packages/core'), { recursive: true });
    writeFileSync(path.join(repository, 'package.json'), JSON.stringify({ private: true, workspaces: ['packages/core', 'examples/*'] }));
    writeFileSync(path.join(repository, 'packages/core/package.json'), JSON.stringify({ name: '@warren/core' }));
    const result = await runWarren(['new', 'shipping', '--dir', path.join(repository, 'examples/shipping')]);
    expect(result.code, result.stderr).to.equal(0);
    const manifest = JSON.parse(readFileSync(path.join(repository, 'examples/shipping/package.json'), 'utf8'));
    expect(manifest.dependencies['@warren/core']).to.equal('file:../../packages/core');
    expect(manifest.devDependencies['@warren/testing']).to.equal('file:../../packages/testing');
    expect(result.stdout).to.contain('Inside the Warren repository: @warren/* are file: references');
    expect(result.stdout).to.contain('  npm install\n');
  });

  it('refuses a folder that is not empty and a name npm would refuse, with exit code 2', async () => {
    const taken = await runWarren(['new', 'billing', '--dir', service]);
    expect(taken.code).to.equal(2);
    expect(taken.stderr).to.contain('exists and is not empty');
    const invalid = await runWarren(['new', 'Billing Service', '--dir', path.join(workDir, 'x')]);
    expect(invalid.code).to.equal(2);
    expect(invalid.stderr).to.contain('"Billing Service" is not a valid package name');
    expect(existsSync(path.join(workDir, 'x'))).to.equal(false);
  });

  it('generates a consumer and a publisher of one message, sharing its class, and says that main.ts starts them', async () => {
    const consumer = await runWarren(['generate', 'consumer', 'InvoicePaid', '--dir', service]);
    expect(consumer.code, consumer.stderr).to.equal(0);
    expect(consumer.stdout).to.contain('Added InvoicePaidConsumer (queue billing.invoice-paid ← billing / invoice.paid)');
    expect(consumer.stdout).to.contain('src/main.ts loads every module in src/handlers, so InvoicePaidConsumer starts with the service.');
    const publisher = await runWarren(['generate', 'publisher', 'invoice-paid'], { cwd: service });
    expect(publisher.code, publisher.stderr).to.equal(0);
    expect(publisher.stdout).to.contain('src/messages/invoice-paid.ts (exists: reused)');
    for (const file of ['src/messages/invoice-paid.ts', 'src/handlers/invoice-paid.consumer.ts', 'test/invoice-paid.consumer.test.ts', 'src/handlers/invoice-paid.publisher.ts', 'test/invoice-paid.publisher.test.ts']) {
      expect(existsSync(path.join(service, file)), file).to.equal(true);
    }
  });

  it('refuses to overwrite a generated handler, and writes nothing', async () => {
    const handler = path.join(service, 'src/handlers/invoice-paid.consumer.ts');
    writeFileSync(handler, `${readFileSync(handler, 'utf8')}// edited by hand\n`);
    const again = await runWarren(['generate', 'consumer', 'InvoicePaid', '--dir', service]);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.contain('Not overwriting src/handlers/invoice-paid.consumer.ts, test/invoice-paid.consumer.test.ts');
    expect(readFileSync(handler, 'utf8')).to.contain('// edited by hand');
  });

  it('refuses to generate outside a service', async () => {
    const result = await runWarren(['generate', 'consumer', 'InvoicePaid', '--dir', workDir]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain('No package.json in');
  });

  describe('the generated service, built against this repository\'s packages', () => {
    before(() => linkDependencies(service));

    it('compiles, and its tests pass (the template\'s and the generated ones)', async () => {
      const compiled = await runNode([path.join(REPOSITORY, 'node_modules/typescript/bin/tsc'), '-p', '.'], service);
      expect(compiled.code, compiled.stdout + compiled.stderr).to.equal(0);
      const tested = await runNode([path.join(REPOSITORY, 'node_modules/mocha/bin/mocha.js'), '--reporter', 'dot'], service);
      expect(tested.code, tested.stdout + tested.stderr).to.equal(0);
      expect(tested.stdout).to.contain('8 passing');
    });

    it('starts on the embedded broker without AMQP_URL, with the generated consumer, and exits 0 on SIGTERM', async () => {
      const child = spawn(process.execPath, ['dist/src/main.js'], { cwd: service, env: { ...process.env, AMQP_URL: '', NODE_ENV: 'development' } });
      let log = '';
      child.stderr.on('data', (chunk: Buffer) => { log += chunk.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 15_000;
      while (!log.includes('warren started') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      expect(log).to.contain('running on the embedded in-memory broker');
      expect(log).to.contain('InvoicePaidConsumer.handle ← billing.invoice-paid');
      expect(log).to.contain('TaskConsumer.onSubmitted ← billing.task-submitted');
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
      expect(log).to.contain('warren stopped');
    });
  });
});

describe('a service created inside the Warren repository', function () {
  this.timeout(180_000);
  let service: string;

  before(async () => {
    // Inside the repository (file: links to its packages), outside its workspaces: a plain npm install.
    service = mkdtempSync(path.join(REPOSITORY, '.scaffold-test-'));
    rmSync(service, { recursive: true });
    const created = await runWarren(['new', 'parcels', '--dir', service]);
    expect(created.code, created.stderr).to.equal(0);
  });
  after(() => { if (service) rmSync(service, { recursive: true, force: true }); });

  it('installs with npm install, and npm test passes in it', async () => {
    const npm = (args: string[]) => new Promise<Run>((resolve) => {
      execFile('npm', args, { cwd: service, env: { ...process.env, AMQP_URL: '' } }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
    });
    const installed = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund']);
    expect(installed.code, installed.stderr).to.equal(0);
    const tested = await npm(['test']);
    expect(tested.code, tested.stdout + tested.stderr).to.equal(0);
    expect(tested.stdout).to.match(/[1-9]\d* passing/);
  });
});

describe('names of generated code', () => {
  it('derive the class, file and routing key from PascalCase, camelCase, kebab-case or snake_case', () => {
    const expected = { className: 'InvoicePaid', fileName: 'invoice-paid', routingKey: 'invoice.paid' };
    for (const given of ['InvoicePaid', 'invoicePaid', 'invoice-paid', 'invoice_paid']) expect(messageNames(given), given).to.deep.equal(expected);
    expect(messageNames('HTTPRequestLogged')).to.deep.equal({ className: 'HttpRequestLogged', fileName: 'http-request-logged', routingKey: 'http.request.logged' });
  });

  it('refuse a name that cannot be a class', () => {
    expect(() => messageNames('2fast')).to.throw('cannot name a class');
    expect(() => messageNames('invoice paid')).to.throw('cannot name a class');
  });
});
