// docs/getting-started.md, step 3.
// #region getting-started-publisher
import { Publisher, route } from '@warren/core';
import { OrderCreated } from './messages';

@Publisher('orders')                 // durable direct exchange "orders"
export class OrderEvents {
  readonly created = route('order.created', OrderCreated);
}
// #endregion getting-started-publisher
