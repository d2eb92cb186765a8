/**
 * Connection URLs carry passwords; every place that prints one goes through here first.
 *
 * Redaction works on the URL's structure, never on a parse: the userinfo is everything between
 * `://` and the LAST `@` of the URL, so a password with `@`, `/`, `#`, `?`, `%` or `:` in it — which
 * `new URL()` misreads or refuses — is removed whole. (`new URL()` also throws ERR_INVALID_URL with
 * the whole input attached, which is exactly the leak this module exists to prevent.)
 */
const URL_START = /^([a-z][a-z0-9+.-]*:\/\/)([^]*)$/i;

/**
 * A URL-shaped run inside free text: a scheme, `://`, then anything up to whitespace or a quote.
 * A password with a space or a quote in it ends the run early: the callers that know the password
 * pass it to {@link redactText} as a secret as well.
 */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>]*/gi;

/** `amqp://user:secret@host/vh` → `amqp://***@host/vh`. Strings without userinfo are returned as they are. */
export function redactUrl(url: string): string {
  return replaceUserinfo(url, '***@');
}

/** `amqp://user:secret@host/vh` → `amqp://host/vh`: for health output and descriptions, where even a user name has no place. */
export function stripUserinfo(url: string): string {
  return replaceUserinfo(url, '');
}

function replaceUserinfo(url: string, replacement: string): string {
  const match = URL_START.exec(url);
  if (!match) return url;
  const rest = match[2]!;
  const at = rest.lastIndexOf('@');
  return at === -1 ? url : `${match[1]}${replacement}${rest.slice(at + 1)}`;
}

/** Removes every URL's userinfo and every occurrence of the given secrets (also percent-encoded) from a message. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(URL_IN_TEXT, (url) => redactUrl(url));
  for (const secret of secrets) {
    if (secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}
