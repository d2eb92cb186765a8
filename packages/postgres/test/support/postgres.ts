import { randomBytes } from 'node:crypto';
import { Pool, type PoolConfig } from 'pg';

/** The database the tests use; CI's is the machine's PostgreSQL on 127.0.0.1:5432, trust auth, db `test`. */
export const PG_CONFIG: PoolConfig = {
  connectionString: process.env.WARREN_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  connectionTimeoutMillis: 5000,
};

let reachable: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL answers a query, else why not (checked once per run). */
function postgresProblem(): Promise<string | undefined> {
  reachable ??= (async () => {
    const pool = new Pool({ ...PG_CONFIG, max: 1 });
    try {
      await pool.query('SELECT 1');
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      await pool.end().catch(() => undefined);
    }
  })();
  return reachable;
}

/**
 * `describe` for tests that need PostgreSQL. Without it they are skipped locally, but under CI=true
 * (or WARREN_REQUIRE_POSTGRES=1) they fail: CI starts PostgreSQL, and a run that skipped them would
 * prove nothing. WARREN_SKIP_BROKER=1 (`npm run test:unit`) skips them on purpose.
 */
export function describeWithPostgres(title: string, body: (this: Mocha.Suite) => void): void {
  describe(`${title} (PostgreSQL)`, function () {
    before(async function () { await requirePostgres(this); });
    body.call(this);
  });
}

/** The check of {@link describeWithPostgres}, for a `before` hook of a suite that also needs a broker. */
export async function requirePostgres(context: Mocha.Context): Promise<void> {
  context.timeout(90_000);
  if (process.env.WARREN_SKIP_BROKER === '1') return context.skip();
  let problem = await postgresProblem();
  if (problem === undefined) return;
  const required = process.env.CI === 'true' || process.env.WARREN_REQUIRE_POSTGRES === '1';
  // A server that is restarting (a fault test of another run on this machine restarts it) is
  // waited for, within a minute; one that is not there at all fails at once.
  for (const deadline = Date.now() + 60_000; required && problem !== undefined && /shutting down|starting up|recovery/.test(problem) && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    problem = await postgresProblem();
  }
  if (problem === undefined) return;
  if (required) {
    throw new Error(`PostgreSQL is required (CI=true) but ${PG_CONFIG.connectionString?.replace(/:[^:@/]*@/, ':***@')} did not answer: ${problem}`);
  }
  context.skip();
}

/** A schema of its own for one test (or suite), so runs share the database without seeing each other. */
export class TestSchema {
  readonly name = `warren_test_${randomBytes(5).toString('hex')}`;
  readonly outboxTable = `${this.name}.warren_outbox`;
  readonly inboxTable = `${this.name}.warren_inbox`;
  readonly offsetTable = `${this.name}.warren_offsets`;

  constructor(readonly pool: Pool) {}

  static async create(pool: Pool): Promise<TestSchema> {
    const schema = new TestSchema(pool);
    await pool.query(`CREATE SCHEMA ${schema.name}`);
    return schema;
  }

  async drop(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.name} CASCADE`);
  }
}

/** Rejects after `ms`: every await in a hook gets a deadline. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms); }),
  ]);
}
