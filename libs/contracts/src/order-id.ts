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

/**
 * The smallest UUIDv7 minted at `epochMs` or later: ids sort by their minting time (the timestamp
 * leads, in fixed-width hex), so `id >= orderIdFloor(t)` is a primary-key range of the orders minted
 * since t.
 */
export function orderIdFloor(epochMs: number): string {
  const hex = Math.max(0, Math.floor(epochMs)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-0000-0000-000000000000`;
}
