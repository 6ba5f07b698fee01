import { CartReservation, DEFAULT_STORE_ID, ReserveAgentDto, ReserveCartDto, StorePattern } from '@app/contracts';
import { call } from '@app/platform';
import { ClientProxy } from '@nestjs/microservices';

/*
 * Phase-1 requests as the coordinator sends them, for tests that play a stray, late or duplicating
 * coordinator straight on the participants' queues. An order of the single-food API is a cart of
 * one packet in the default dark store; so are these, unless a store is named.
 */

/** The store's reserve of one packet of `foodId` for `orderId`: a cart of one line. */
export function cartOfOne(orderId: string, foodId: number, storeId = DEFAULT_STORE_ID): ReserveCartDto {
  return { orderId, storeId, items: [{ foodId, quantity: 1 }] };
}

/** Delivery's reserve of an agent of the store for `orderId`, as the order's first attempt unless told. */
export function agentReserve(orderId: string, storeId = DEFAULT_STORE_ID, attempt = 1): ReserveAgentDto {
  return { orderId, storeId, attempt };
}

/** Reserves one packet of `foodId` for `orderId` at the store (cartOfOne); answers the packet's id. */
export async function reservePacket(
  store: ClientProxy,
  orderId: string,
  foodId: number,
  timeoutMs = 2000,
  storeId = DEFAULT_STORE_ID,
): Promise<number> {
  const { items } = await call<CartReservation>(store, StorePattern.RESERVE_CART, cartOfOne(orderId, foodId, storeId), timeoutMs);
  return items[0].packetIds[0];
}
