import 'reflect-metadata';
import { expect } from 'chai';
import { IsString } from 'class-validator';
import { container, delay, inject, injectable } from 'tsyringe';
import { Consumer, MemoryTransport, Publisher, route, silentLogger, Warren } from '../src';
import { until } from './support/until';

class Parcel {
  @IsString() text!: string;
}

@Publisher('injected-relayed')
class Relayed {
  readonly parcel = route('parcel', Parcel);
}

/** What a handler sees of the publisher when it is typed by an interface (no runtime type). */
interface Sends {
  parcel(message: Parcel): Promise<void>;
}

/** Receives what the injecting handlers relay. */
class Receiver {
  static received: string[] = [];

  @Consumer('injected-relayed', 'parcel', { queue: 'injected.receiver' })
  async onParcel(parcel: Parcel) {
    Receiver.received.push(parcel.text);
  }
}

@injectable()
class ByInject {
  constructor(@inject(Relayed) private readonly relayed: Relayed) {}

  @Consumer('injected-in', 'by-inject', { queue: 'injected.by-inject' })
  async onParcel(parcel: Parcel) {
    await this.relayed.parcel({ text: `inject:${parcel.text}` });
  }
}

@injectable()
class ByInterface {
  constructor(@inject(Relayed) private readonly sends: Sends) {}

  @Consumer('injected-in', 'by-interface', { queue: 'injected.by-interface' })
  async onParcel(parcel: Parcel) {
    await this.sends.parcel({ text: `interface:${parcel.text}` });
  }
}

@injectable()
class ByDelay {
  constructor(@inject(delay(() => Relayed)) private readonly relayed: Relayed) {}

  @Consumer('injected-in', 'by-delay', { queue: 'injected.by-delay' })
  async onParcel(parcel: Parcel) {
    await this.relayed.parcel({ text: `delay:${parcel.text}` });
  }
}

describe('Publishers injected with tsyringe\'s @inject', () => {
  for (const [handler, key] of [[ByInject, 'by-inject'], [ByInterface, 'by-interface'], [ByDelay, 'by-delay']] as const) {
    it(`binds a publisher a handler receives through @inject (${handler.name}) and publishes through it`, async () => {
      Receiver.received = [];
      const app = await Warren.start({ transport: new MemoryTransport(), handlers: [handler, Receiver], logger: silentLogger, container: container.createChildContainer() });
      try {
        expect(app.publishers.map((p) => p.publisherClass)).to.include(Relayed);
        await app.publish('injected-in', key, { text: 'x' });
        await until(() => Receiver.received.length === 1);
        expect(Receiver.received).to.deep.equal([`${key.replace('by-', '')}:x`]);
      } finally {
        await app.close();
      }
    });
  }
});
