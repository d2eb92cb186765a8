import { ConnectionError, PublishError, TopologyError, WarrenError } from '../../errors';
import { redactText } from '../../redact';
import type { OutgoingMessage } from '../../transport';
import { RefusedDeclaration } from './topology';
import type { BrokerAddress } from './url';

/** Node's codes for a TLS peer that failed verification: an untrusted CA, or a certificate for another host. */
const TLS_REJECTIONS = new Set([
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH',
]);

/** Channel errors on a consumer's first attach that retrying cannot fix. */
export const REFUSALS = new Set(['ACCESS_REFUSED', 'NOT_FOUND', 'PRECONDITION_FAILED', 'RESOURCE_LOCKED']);

export function isTlsRejection(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && TLS_REJECTIONS.has(code);
}

/**
 * Turns rabbitmq-client's errors into Warren's typed errors, with the broker's address redacted and
 * the password scrubbed from every message.
 */
export class BrokerErrors {
  constructor(private readonly address: BrokerAddress) {}

  clean(err: unknown): string {
    // rabbitmq-client prefixes the AMQP method's name, which is "undefined" during the handshake.
    const message = (err instanceof Error ? err.message : String(err)).replace(/^undefined: /, '');
    return redactText(message, [this.address.password]);
  }

  connection(err: unknown, context?: string): ConnectionError {
    if (err instanceof ConnectionError) return err;
    const code = (err as { code?: string })?.code;
    const detail = this.clean(err);
    const where = this.address.redacted;
    if (code === 'ACCESS_REFUSED' || code === 'NOT_ALLOWED' || /ACCESS_REFUSED|access_refused|authentication|NOT_ALLOWED/i.test(detail)) {
      return new ConnectionError('ACCESS_REFUSED', `${context ?? 'The broker refused the connection'} (${where}): ${detail}. Check the user's password, vhost and permissions.`);
    }
    if (isTlsRejection(err)) {
      return new ConnectionError('CONNECTION', `${context ?? 'TLS handshake failed'} (${where}): the broker's certificate was not accepted (${code}: ${detail}). Check the CA passed in { tls: { ca } } and that the URL's host name is one the certificate names.`, { cause: err });
    }
    return new ConnectionError('CONNECTION', `${context ?? 'Connection problem'} (${where}): ${detail}`);
  }

  topology(refusal: unknown): WarrenError {
    if (refusal instanceof WarrenError) return refusal;
    const what = refusal instanceof RefusedDeclaration ? ` of ${refusal.what}` : '';
    const err = refusal instanceof RefusedDeclaration ? refusal.reason : refusal;
    const code = (err as { code?: string })?.code;
    // RabbitMQ 4.x refuses a deprecated feature (transient non-exclusive queues) by closing the whole
    // connection with INTERNAL_ERROR: still a refusal of this declaration, not a connection problem.
    if (code === 'INTERNAL_ERROR' && /deprecated/i.test(this.clean(err))) {
      return new TopologyError(`RabbitMQ refused the declaration${what}: ${this.clean(err)}. This broker does not permit the feature; declare the queue durable (or exclusive, for a queue that lives with its connection).`, { cause: err });
    }
    // ACCESS_REFUSED means two things: the user lacks a permission ("… refused for user …"), or the
    // declaration itself is illegal (binding to the default exchange, the reserved amq. prefix).
    if (code === 'ACCESS_REFUSED' && /refused for user/i.test(this.clean(err))) {
      return new ConnectionError('ACCESS_REFUSED', `RabbitMQ refused an operation on ${this.address.redacted} for lack of permissions: ${this.clean(err)}. Grant the user configure / write / read permissions on these names in the vhost (rabbitmqctl set_permissions).`, { cause: err });
    }
    if (code === 'PRECONDITION_FAILED' || code === 'NOT_FOUND' || code === 'RESOURCE_LOCKED' || code === 'ACCESS_REFUSED') {
      return new TopologyError(`RabbitMQ refused a declaration (${code})${what}: ${this.clean(err)}. An existing queue or exchange with other arguments must be deleted (or renamed) before it can be declared differently.`, { cause: err });
    }
    return this.connection(err);
  }

  publish(err: unknown, message: OutgoingMessage): WarrenError {
    if (err instanceof WarrenError) return err;
    const code = (err as { code?: string })?.code;
    return new PublishError(`Publishing to exchange "${message.exchange}" with routing key "${message.routingKey}" failed (${code ?? 'error'}): ${this.clean(err)}`, { cause: err });
  }
}
