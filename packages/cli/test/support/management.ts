import { randomBytes } from 'node:crypto';
import { AMQP_URL } from './broker';

/**
 * The management API of the broker the tests use: WARREN_MANAGEMENT_URL (CI sets it for each leg),
 * else AMQP_URL's host on port 15672 with guest's credentials.
 */
export const MANAGEMENT_URL = process.env.WARREN_MANAGEMENT_URL ?? `http://guest:guest@${new URL(AMQP_URL).hostname}:15672`;

function split(url: string): { base: string; authorization: string } {
  const parsed = new URL(url);
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`).toString('base64')}`;
  parsed.username = '';
  parsed.password = '';
  return { base: parsed.toString().replace(/\/+$/, ''), authorization };
}

/** Calls the management API as its administrator; throws on anything but 2xx. */
export async function management(method: string, path: string, body?: unknown): Promise<unknown> {
  const { base, authorization } = split(MANAGEMENT_URL);
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`management API ${method} ${path}: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

/** Whether the management API answers (a local broker may not have the plugin enabled). */
export async function managementReachable(): Promise<boolean> {
  try {
    await management('GET', '/api/overview');
    return true;
  } catch {
    return false;
  }
}

export interface ScratchVhost {
  vhost: string;
  user: string;
  password: string;
  /** AMQP_URL pointed at the vhost, as the scratch user. */
  amqpUrl: string;
  /** MANAGEMENT_URL as the scratch user. */
  managementUrl: string;
  remove(): Promise<void>;
}

/**
 * A vhost and a user of its own for one suite, so fixed queue names (an example's) cannot meet
 * another test's. The vhost gets the default queue type of AMQP_URL's vhost (quorum in CI's
 * `managed` leg); the user has a password no other test uses, so a test can look for it.
 */
export async function scratchVhost(prefix: string): Promise<ScratchVhost> {
  const id = randomBytes(4).toString('hex');
  const vhost = `warren-test.${prefix}.${id}`;
  const user = `warren-test-${prefix}-${id}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const amqp = new URL(AMQP_URL);
  const current = amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/';
  const info = (await management('GET', `/api/vhosts/${encodeURIComponent(current)}`)) as { default_queue_type?: string; metadata?: { default_queue_type?: string } };
  const queueType = info.default_queue_type ?? info.metadata?.default_queue_type;
  await management('PUT', `/api/vhosts/${encodeURIComponent(vhost)}`, queueType && queueType !== 'undefined' ? { default_queue_type: queueType } : {});
  await management('PUT', `/api/users/${encodeURIComponent(user)}`, { password, tags: 'monitoring' });
  await management('PUT', `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`, { configure: '.*', write: '.*', read: '.*' });
  const amqpUrl = new URL(AMQP_URL);
  amqpUrl.username = user;
  amqpUrl.password = password;
  amqpUrl.pathname = `/${encodeURIComponent(vhost)}`;
  const managementUrl = new URL(MANAGEMENT_URL);
  managementUrl.username = user;
  managementUrl.password = password;
  return {
    vhost, user, password, amqpUrl: amqpUrl.toString(), managementUrl: managementUrl.toString(),
    remove: async () => {
      await management('DELETE', `/api/vhosts/${encodeURIComponent(vhost)}`).catch(() => undefined);
      await management('DELETE', `/api/users/${encodeURIComponent(user)}`).catch(() => undefined);
    },
  };
}
