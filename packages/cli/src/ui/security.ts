import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The console's defences, in one place:
 * - it answers only requests addressed to a loopback name (a page on another site that rebinds its
 *   DNS name to 127.0.0.1 sends its own name in `Host`, and is refused);
 * - actions need the token printed at start, in a header, compared in constant time; a cross-site
 *   form cannot set a header, and a cross-origin script is refused by the `Origin` check and by the
 *   missing CORS headers;
 * - every response forbids framing and sniffing, and pages may load scripts and styles from the
 *   console only (CSP), so a message that smuggles markup past the page's text rendering still
 *   cannot run.
 */

/** The header an action request carries its token in. */
export const TOKEN_HEADER = 'x-warren-token';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** Names that always mean this machine. */
export const LOOPBACK_NAMES: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

/** A fresh action token: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `given` equals `expected`, in time that does not depend on where they differ. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  // Digests have one length, so timingSafeEqual never throws and the length is not revealed either.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Whether the request's `Host` names this console: one of `names` (lower case, IPv6 in brackets),
 * with no port or the port it listens on.
 */
export function hostAllowed(request: IncomingMessage, names: ReadonlySet<string>, port: number): boolean {
  const host = request.headers.host?.toLowerCase();
  if (!host) return false;
  const match = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(host);
  if (!match) return false;
  return names.has(match[1]!) && (match[2] === undefined || Number(match[2]) === port);
}

/** Whether a request's `Origin`, when it has one, is the console itself (same host and port). */
export function sameOrigin(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  return origin === `http://${request.headers.host ?? ''}`;
}
