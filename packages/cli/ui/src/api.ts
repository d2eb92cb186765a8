import type { ActionResult, ApiError, Selection } from '../../src/ui/api-types';

const TOKEN_KEY = 'warren-console-token';

/**
 * The action token: taken from the URL's #token=… (which warren ui prints) into this tab's session
 * storage, and removed from the address bar so it is not bookmarked or shared by accident.
 */
export function adoptTokenFromUrl(): void {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (!match) return;
  sessionStorage.setItem(TOKEN_KEY, match[1]!);
  history.replaceState(null, '', `${location.pathname}${location.search}#/wiring`);
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token.trim());
}

/** An error answer of the console's API, with its status. */
export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as T | ApiError;
  if (!response.ok) throw new ApiFailure(response.status, (body as ApiError).error ?? `HTTP ${response.status}`);
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' }));
}

export async function runAction(consumer: string, action: 'replay' | 'discard', selection: Selection): Promise<ActionResult> {
  const token = storedToken();
  const response = await fetch(`/api/dead-letters/${encodeURIComponent(consumer)}/${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(token ? { 'x-warren-token': token } : {}) },
    body: JSON.stringify({ selection }),
  });
  return parse<ActionResult>(response);
}
