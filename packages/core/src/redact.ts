/**
 * Connection URLs carry passwords; every place that prints one goes through here first.
 * Parsing is done by hand on purpose: `new URL()` throws ERR_INVALID_URL with the whole input
 * attached, which is exactly the leak this module exists to prevent.
 */
const CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*)@/i;

/** `amqp://user:secret@host/vh` → `amqp://user:***@host/vh`. Non-URL strings are returned as they are. */
export function redactUrl(url: string): string {
  return url.replace(CREDENTIALS, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** Removes every occurrence of the given secrets (and URLs' passwords) from a message. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, (url) => redactUrl(url));
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join('***');
  }
  return out;
}
