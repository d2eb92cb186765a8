import { ConfigurationError } from '@warren/core';

/** npm's rule for package names, scoped or not (lower case, URL-safe, at most 214 characters). */
const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

/** What a new service is called in each place its name appears. */
export interface ServiceNames {
  /** The package name as given, e.g. `@acme/billing`. */
  packageName: string;
  /** The name without its scope, e.g. `billing`: the folder, the exchange, the queue prefix, `WARREN_NAME`. */
  serviceName: string;
}

/**
 * Checks a service name and derives the names used in the template.
 *
 * @example
 * ```ts
 * serviceNames('@acme/billing'); // { packageName: '@acme/billing', serviceName: 'billing' }
 * ```
 */
export function serviceNames(name: string): ServiceNames {
  if (name.length > 214 || !PACKAGE_NAME.test(name)) {
    throw new ConfigurationError(`"${name}" is not a valid package name: use lower-case letters, digits, "-", "." or "_" (optionally scoped, like @acme/billing).`);
  }
  return { packageName: name, serviceName: name.slice(name.indexOf('/') + 1) };
}

/** What a generated message, handler and test are called. */
export interface MessageNames {
  /** `InvoicePaid`: the message class; the handler is `InvoicePaidConsumer` / `InvoicePaidPublisher`. */
  className: string;
  /** `invoice-paid`: the file names. */
  fileName: string;
  /** `invoice.paid`: the routing key. */
  routingKey: string;
}

/**
 * Splits a name given as `InvoicePaid`, `invoicePaid`, `invoice-paid` or `invoice_paid` into words
 * and derives the class, file and routing-key names from them.
 *
 * @example
 * ```ts
 * messageNames('InvoicePaid'); // { className: 'InvoicePaid', fileName: 'invoice-paid', routingKey: 'invoice.paid' }
 * ```
 */
export function messageNames(name: string): MessageNames {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name)) {
    throw new ConfigurationError(`"${name}" cannot name a class: use letters and digits, like InvoicePaid (or invoice-paid).`);
  }
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((word) => word.toLowerCase());
  return {
    className: words.map((word) => word[0]!.toUpperCase() + word.slice(1)).join(''),
    fileName: words.join('-'),
    routingKey: words.join('.'),
  };
}
