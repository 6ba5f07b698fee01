import { DeliveryPattern, OrderPattern, StorePattern } from '@app/contracts';
import { mayBeJson } from './reply-safe-server';

describe('mayBeJson: which patterns the RMQ server hands to JSON.parse', () => {
  it.each(['{"cmd":"store.packet.reserve"}', ' [1]', '"store.packet.reserve"', '-1', '12', ' true ', 'null', 'false\n'])(
    'parses %j, which is JSON',
    (text) => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(mayBeJson(text)).toBe(true);
    },
  );

  it.each(['store.packet.reserve', 'truex', 'nullable', 'order.place', ''])('routes %j as it is, which JSON.parse refuses', (text) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(mayBeJson(text)).toBe(false);
  });

  it('routes every contract pattern without parsing it', () => {
    const patterns = [StorePattern, DeliveryPattern, OrderPattern].flatMap((group) => Object.values(group));
    expect(patterns.length).toBeGreaterThan(10);
    for (const pattern of patterns) expect(mayBeJson(pattern)).toBe(false);
  });
});
