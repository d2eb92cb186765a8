import { container } from 'tsyringe';
import { MemoryTransport, silentLogger, Warren, type WarrenOptions } from '../../src';

/** The error `Warren.start` fails with on the in-memory broker (fails the test when it starts). */
export async function startError(options: WarrenOptions): Promise<Error> {
  try {
    const app = await Warren.start({ transport: new MemoryTransport(), logger: silentLogger, container: container.createChildContainer(), ...options });
    await app.close();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Warren.start did not fail');
}
