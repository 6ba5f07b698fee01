import { createHmac, timingSafeEqual } from 'node:crypto';
import { v7, version } from 'uuid';

/**
 * Order ids are UUIDv7: the gateway mints them, and the first 48 bits say when. That lets the
 * coordinator tell an id it has never seen because its command is still on the way from one whose
 * command was lost (a broker crash can drop a publish that was never confirmed).
 *
 * The last 40 bits are a MAC of the rest under ORDER_ID_SECRET, so the coordinator records a lost
 * order only for an id a gateway really minted: a look-up of a made-up id changes nothing. The
 * first 88 bits keep ids unique: the time, and uuid's 32-bit counter, which starts at random each
 * millisecond and counts up within it (the MAC replaces only random bits after it).
 */
export function newOrderId(secret: string, mintedAt?: number): string {
  // Without options uuid keeps its per-process counter, so one gateway never mints an id twice;
  // `mintedAt` (tests back-dating an id) gives up that counter for random bits.
  const uuid = mintedAt === undefined ? v7() : v7({ msecs: mintedAt });
  const head = uuid.replace(/-/g, '').slice(0, MAC_AT);
  const hex = head + mac(head, secret);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Whether a gateway holding `secret` minted this id. */
export function isMintedOrderId(orderId: string, secret: string): boolean {
  const hex = orderId.toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex.slice(MAC_AT)), Buffer.from(mac(hex.slice(0, MAC_AT), secret)));
}

/**
 * The key that signs the order ids of a partition (see PARTITION_MAP) other than the default dark
 * store's: the id then says which partition holds the order, and a gateway finds it by checking the
 * MAC under each partition's key, with no message to any. The default store's partition signs with
 * ORDER_ID_SECRET itself, so every id minted before partitions existed belongs to it.
 */
export function partitionOrderIdSecret(secret: string, partition: string): string {
  return createHmac('sha256', secret).update(`order-id-partition:${partition}`).digest('hex');
}

/** Hex digits before the MAC: 88 bits. */
const MAC_AT = 22;

function mac(head: string, secret: string): string {
  return createHmac('sha256', secret)
    .update(head)
    .digest('hex')
    .slice(0, 32 - MAC_AT);
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
