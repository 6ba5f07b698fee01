import { newOrderId, orderIdFloor, orderIdMintedAt } from './order-id';

describe('orderIdFloor', () => {
  it('sorts below every id minted at or after its time and above every id minted before it', () => {
    const id = newOrderId();
    const mintedAt = orderIdMintedAt(id)!;
    expect(id >= orderIdFloor(mintedAt)).toBe(true);
    expect(id < orderIdFloor(mintedAt + 1)).toBe(true);
  });
});
