/**
 * The service of the least-privilege test: a consumer with a retry and a dead-letter queue and a
 * publisher, all under `${EX}` / `${Q}`, loaded both by Warren (declare: false) and by
 * `warren topology --print`, which emits what an administrator must create for it.
 */
import 'reflect-metadata';
import { IsString, Length } from 'class-validator';
import { injectable } from 'tsyringe';
import { Consumer, Publisher, route } from '../../src';

export class Shipment {
  @IsString() @Length(1, 80) id!: string;
}

/** What the consumer received, shared through DI. */
@injectable()
export class Shipped {
  ids: string[] = [];
}

@Publisher('${EX}')
export class Shipments {
  readonly created = route('shipment.created', Shipment);
}

@injectable()
export class ShipmentHandlers {
  constructor(private readonly shipped: Shipped) {}

  @Consumer('${EX}', 'shipment.created', { queue: '${Q}.shipments', retry: { attempts: 2, delay: 50 } })
  async created(shipment: Shipment): Promise<void> {
    if (shipment.id.startsWith('fail')) throw new Error('cannot ship');
    this.shipped.ids.push(shipment.id);
  }
}
