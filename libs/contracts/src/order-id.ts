import { v7, version } from 'uuid';

/**
 * Order ids are UUIDv7: the gateway mints them, and the first 48 bits say when. That lets the
 * coordinator tell an id it has never seen because its command is still on the way from one whose
 * command was lost (a broker crash can drop a publish that was never confirmed).
 */
export function newOrderId(): string {
  return v7();
}

/** When the order id was minted (epoch ms), or undefined for an id that is not a UUIDv7. */
export function orderIdMintedAt(orderId: string): number | undefined {
  try {
    if (version(orderId) !== 7) return undefined;
  } catch {
    return undefined;
  }
  return parseInt(orderId.replace(/-/g, '').slice(0, 12), 16);
}
