import { isMintedOrderId, newOrderId, orderIdFloor, orderIdMintedAt } from './order-id';

const SECRET = 'a-test-order-id-secret';

describe('orderIdFloor', () => {
  it('sorts below every id minted at or after its time and above every id minted before it', () => {
    const id = newOrderId(SECRET);
    const mintedAt = orderIdMintedAt(id)!;
    expect(id >= orderIdFloor(mintedAt)).toBe(true);
    expect(id < orderIdFloor(mintedAt + 1)).toBe(true);
  });
});

describe('newOrderId', () => {
  it('mints unique UUIDv7 ids that only the same secret recognises', () => {
    const ids = Array.from({ length: 10_000 }, () => newOrderId(SECRET));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids.slice(0, 100)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(isMintedOrderId(id, SECRET)).toBe(true);
      expect(isMintedOrderId(id.toUpperCase(), SECRET)).toBe(true);
      expect(isMintedOrderId(id, 'another-secret-entirely')).toBe(false);
    }
  });

  it('does not recognise a made-up or altered id', () => {
    const id = newOrderId(SECRET);
    const altered = id.slice(0, -1) + (id.endsWith('0') ? '1' : '0');
    expect(isMintedOrderId(altered, SECRET)).toBe(false);
    expect(isMintedOrderId('019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d', SECRET)).toBe(false);
    expect(isMintedOrderId('not-an-id', SECRET)).toBe(false);
  });
});
