import {
  CartLine,
  ErrorCode,
  newOrderId,
  NotPlacedReason,
  OrderLine,
  OrderPattern,
  OrderState,
  OrderView,
  outcomeOf,
  BatchProgress,
  PlaceOrderCommand,
  Queue,
} from '@app/contracts';
import { Batcher, RpcCallError, setCorrelatedOrder } from '@app/platform';
import { HttpStatus, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../errors/api-error';
import { GatewayEnv } from '../config/gateway.env';
import { PartitionRoute, Partitions } from '../partitions/partitions';

/** A look-up's answer: the order, or 202 PENDING while its command has not reached the order service. */
export interface LookUpAnswer {
  status: HttpStatus.OK | HttpStatus.ACCEPTED;
  body: OrderView | PlacedAnswer['body'];
}

export interface PlacedAnswer {
  status: HttpStatus.CREATED | HttpStatus.ACCEPTED;
  /** `orderId` is absent only from a keyed request's pending answer (see pendingForKey). */
  body: {
    orderId?: string;
    idempotencyKey?: string;
    state: 'PLACED' | 'PENDING';
    message: string;
    storeId?: number;
    items?: OrderLine[];
    agentId?: number;
    foodId?: number;
    packetId?: number;
  };
}

@Injectable()
export class OrdersService {
  /**
   * Per partition, the commands of the requests that arrive while a batch is out go together as the
   * next one (see Batcher); a batch never mixes partitions. The order service answers a batch as
   * its orders settle (BatchProgress): each request is answered with its own order's outcome, and
   * once every order of a batch is settled or waiting for stock the batch frees its place, so an
   * order contended in one dark store delays no order of another. A batch that hears nothing for
   * RPC_TIMEOUT_MS (its order instance paused, or cut off from a participant) frees its place too,
   * while its orders still wait for their outcomes up to ORDER_WAIT_MS: the next batches go to the
   * instances that answer, instead of queueing behind a silent one.
   */
  private readonly commands = new Map<string, Batcher<PlaceOrderCommand, OrderView>>();

  constructor(
    private readonly partitions: Partitions,
    private readonly env: GatewayEnv,
  ) {}

  private commandsOf(partition: PartitionRoute): Batcher<PlaceOrderCommand, OrderView> {
    let batcher = this.commands.get(partition.name);
    if (!batcher) {
      batcher = new Batcher(
        OrderPattern.PLACE_ORDERS,
        async (requests, correlationIds, early) => {
          const message = correlationIds.length > 0 ? { requests, correlationIds } : { requests };
          const working = new Set(requests.keys());
          let silence = setTimeout(early.release, this.env.RPC_TIMEOUT_MS);
          const onReply = ({ settled, waiting }: BatchProgress<OrderView>) => {
            for (const { index, outcome } of settled) {
              early.settle(index, outcome);
              working.delete(index);
            }
            for (const index of waiting) working.delete(index);
            clearTimeout(silence);
            if (working.size === 0) early.release();
            else silence = setTimeout(early.release, this.env.RPC_TIMEOUT_MS);
          };
          try {
            await partition.stream(Queue.ORDER, OrderPattern.PLACE_ORDERS, message, this.env.ORDER_WAIT_MS, onReply);
          } finally {
            clearTimeout(silence);
          }
          // Each request was answered by a reply of the stream; one that was not fails as having no outcome.
          return [];
        },
        { max: this.env.BATCH_MAX, inFlight: this.env.ORDER_BATCHES_IN_FLIGHT },
      );
      this.commands.set(partition.name, batcher);
    }
    return batcher;
  }

  /**
   * 201 only for a PLACED order, an ApiError (409/503) only for one that will end NOT_PLACED, and
   * 202 "pending" with the order id whenever the outcome is not known yet (I4); for a keyed request
   * that could not learn which order its key made, 202 with the key instead.
   */
  async place(cart: { storeId: number; items: CartLine[] }, idempotencyKey?: string): Promise<PlacedAnswer> {
    // The store's partition runs the whole order; the id, signed with its key, says which one it is.
    const partition = this.partitions.ofStore(cart.storeId);
    const command: PlaceOrderCommand = {
      orderId: newOrderId(partition.orderIdSecret),
      storeId: cart.storeId,
      items: cart.items,
      deadline: Date.now() + this.env.ORDER_WAIT_MS,
      idempotencyKey,
    };
    // From here on every line of this request, here and in the services, names the order.
    setCorrelatedOrder(command.orderId);
    let order: OrderView;
    try {
      order = await this.commandsOf(partition).call(command);
    } catch (err) {
      // With a key, this request's own id proves nothing: an earlier request with the key may have
      // made the order, and this id would never be recorded. Only the key leads to the outcome.
      if (idempotencyKey && err instanceof RpcCallError && (err.transient || !err.sent)) return pendingForKey(idempotencyKey);
      if (err instanceof RpcCallError && !err.sent) {
        throw new ApiError(
          NotPlacedReason.SERVICE_UNAVAILABLE,
          'Order Not Placed: the order service cannot be reached; nothing was ordered',
          {
            state: OrderState.NOT_PLACED,
          },
        );
      }
      // No reply in time, or the coordinator failed half-way: the order may exist in any state, and
      // the coordinator's recovery settles it. Only "pending" is true.
      if (err instanceof RpcCallError && err.transient) return pending(command.orderId);
      throw err;
    }
    // A retry answered with the order its Idempotency-Key made first: wait for that one as for our own.
    if (order.orderId !== command.orderId) order = await this.settled(order, command.deadline);
    if (outcomeOf(order.state) === 'placed') {
      const { orderId, storeId, items, agentId, foodId, packetId } = order;
      const single = foodId === undefined ? {} : { foodId, packetId: packetId! };
      return {
        status: HttpStatus.CREATED,
        body: { orderId, state: 'PLACED', message: 'Order Placed', storeId: storeId!, items, agentId: agentId!, ...single },
      };
    }
    // ABORTING is already decided: the order can only end NOT_PLACED.
    if (outcomeOf(order.state) === 'not-placed' && order.reason) throw notPlaced(order);
    return pending(order.orderId);
  }

  /** Polls an order someone else is driving until it is decided or `deadline` passes. */
  private async settled(order: OrderView, deadline: number): Promise<OrderView> {
    while (outcomeOf(order.state) === 'pending' && Date.now() < deadline) {
      await sleep(SETTLE_POLL_MS);
      try {
        order = await this.get(order.orderId);
      } catch (err) {
        // Not recorded yet, or the order service is out of reach: still pending, as far as we know.
        if (!(err instanceof RpcCallError)) throw err;
      }
    }
    return order;
  }

  /**
   * GET /orders/:id. An order this gateway answered "pending" for, whose command has not reached
   * the order service yet, is still pending (until ORDER_LOST_AFTER_MS, when the look-up records it
   * lost): the client is told so again, not "not found".
   */
  async lookUp(orderId: string): Promise<LookUpAnswer> {
    try {
      return { status: HttpStatus.OK, body: await this.get(orderId) };
    } catch (err) {
      if (err instanceof RpcCallError && err.code === ErrorCode.ORDER_PENDING) return pending(orderId, 'Not started yet');
      throw err;
    }
  }

  /** Asks the one partition whose key signed the id (see Partitions.ofOrder), never every partition. */
  get(orderId: string): Promise<OrderView> {
    return this.partitions.ofOrder(orderId).call(Queue.ORDER, OrderPattern.GET_ORDER, { orderId }, this.env.RPC_TIMEOUT_MS);
  }

  markDelivered(orderId: string): Promise<OrderView> {
    return this.partitions.ofOrder(orderId).call(Queue.ORDER, OrderPattern.MARK_DELIVERED, { orderId }, this.env.ORDER_WAIT_MS);
  }
}

const SETTLE_POLL_MS = 50;

function pending(orderId: string, why = 'Outcome not known yet'): PlacedAnswer & LookUpAnswer {
  const message = `${why}; GET /orders/${orderId} shows it once settled`;
  return { status: HttpStatus.ACCEPTED, body: { orderId, state: 'PENDING', message } };
}

function pendingForKey(idempotencyKey: string): PlacedAnswer {
  const message = 'Outcome not known yet; send the same request with the same Idempotency-Key to learn it';
  return { status: HttpStatus.ACCEPTED, body: { idempotencyKey, state: 'PENDING', message } };
}

const REASON_TEXT: Record<NotPlacedReason, string> = {
  [NotPlacedReason.STORE_NOT_FOUND]: 'no dark store has this id',
  [NotPlacedReason.UNKNOWN_FOOD]: 'a food of the cart does not exist',
  [NotPlacedReason.OUT_OF_STOCK]: 'the dark store has too few packets of a food of the cart',
  [NotPlacedReason.NO_AGENT]: 'no delivery agent of the dark store is free',
  [NotPlacedReason.SERVICE_UNAVAILABLE]: 'a service could not be reached; nothing was kept',
  [NotPlacedReason.RESERVATION_EXPIRED]: 'a reservation expired before it could be assigned',
  [NotPlacedReason.REQUEST_EXPIRED]: 'the order service received the request too late',
  [NotPlacedReason.REQUEST_LOST]: 'the request never reached the order service',
  [NotPlacedReason.COORDINATOR_RECOVERY]: 'the order service restarted before deciding',
};

/** The answer for an order that ends NOT_PLACED; refused OUT_OF_STOCK, it names each food short and by how many packets. */
function notPlaced({ orderId, reason, items }: OrderView): ApiError {
  const shortages = items.filter((line) => line.missing !== undefined).map(({ foodId, missing }) => ({ foodId, missing: missing! }));
  const details = reason === NotPlacedReason.OUT_OF_STOCK && shortages.length > 0 ? { details: shortages } : {};
  return new ApiError(reason!, `Order Not Placed: ${REASON_TEXT[reason!]}`, { orderId, state: OrderState.NOT_PLACED, ...details });
}
