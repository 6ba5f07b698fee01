import { CartLine, ErrorCode, OrderView, PlaceOrderCommand } from '@app/contracts';
import { ContractException } from '@app/platform';
import { withRetries } from '@app/database';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { toView } from './order-journal.service';
import { Order } from './order.entity';

/**
 * Client retries of POST /orders. Each retry reaches the coordinator with a new order id and the
 * same Idempotency-Key; the key's UNIQUE index makes exactly one of them the order (OrderJournal
 * begin), and the others are answered with it here. Only consulted for a command with a key whose
 * begin() found a duplicate, so orders without a key cost nothing extra.
 */
@Injectable()
export class IdempotencyKeys {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * The order an earlier command with this command's key made, or undefined when there is none
   * other than this command's own (no key, or a redelivery of this very command).
   */
  async earlierOrder(command: PlaceOrderCommand): Promise<OrderView | undefined> {
    if (!command.idempotencyKey) return undefined;
    const order = await withRetries(() => this.dataSource.getRepository(Order).findOneBy({ idempotencyKey: command.idempotencyKey }));
    if (!order || order.id === command.orderId) return undefined;
    if (cartOf(order.storeId, order.items) !== cartOf(command.storeId, command.items)) {
      throw new ContractException(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        `Idempotency-Key ${command.idempotencyKey} was used for order ${order.id} of another cart (${cartOf(order.storeId, order.items)})`,
      );
    }
    return toView(order);
  }
}

/** A cart as one text, whatever order its lines were listed in: the same cart reads the same. */
function cartOf(storeId: number | null, items: CartLine[]): string {
  const lines = [...items].sort((a, b) => a.foodId - b.foodId).map((line) => `${line.quantity} x food ${line.foodId}`);
  return `dark store ${storeId}: ${lines.join(', ')}`;
}
