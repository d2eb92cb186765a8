import { injectable } from 'tsyringe';
import { ack, Consumer, reject, retryLater, type MessageContext } from '../../src';
import type { ACTS } from './arbitraries';

type Act = (typeof ACTS)[number];

/** Does what the (hostile) body asks: return, throw odd values, ask for odd retry delays. */
function behave(payload: unknown): unknown {
  const { act, delay } = (payload !== null && typeof payload === 'object' ? payload : {}) as { act?: Act; delay?: number };
  switch (act) {
    case 'return-value': return { echoed: true };
    case 'throw-error': throw new Error('handler failed');
    case 'throw-null-prototype': throw Object.create(null);
    case 'throw-bad-toString': throw { toString() { throw new Error('toString throws'); } };
    case 'throw-string': throw 'a string';
    case 'throw-undefined': throw undefined;
    case 'retry-later': return retryLater(delay as number);
    case 'reject': return reject('rejected by the handler');
    case 'ack': return ack();
    default: return undefined;
  }
}

export const FUZZ_ATTEMPTS = 3;
export const FUZZ_MAX_BODY_BYTES = 8 * 1024;

/** Two consumers: one without the reply option (returns values), one that answers requests. */
@injectable()
export class FuzzConsumers {
  @Consumer('${EX}', 'event', { queue: '${Q}.event', message: Object, retry: { attempts: FUZZ_ATTEMPTS, delay: 1 }, maxBodyBytes: FUZZ_MAX_BODY_BYTES })
  async event(payload: unknown, _context: MessageContext) {
    return behave(payload);
  }

  @Consumer('${EX}', 'rpc', { queue: '${Q}.rpc', message: Object, retry: { attempts: FUZZ_ATTEMPTS, delay: 1 }, maxBodyBytes: FUZZ_MAX_BODY_BYTES, reply: true })
  async rpc(payload: unknown, _context: MessageContext) {
    return behave(payload);
  }
}
