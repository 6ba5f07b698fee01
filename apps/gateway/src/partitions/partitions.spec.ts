import { newOrderId } from '@app/contracts';
import { partitionMapOf } from '@app/platform';
import { ClientProxy } from '@nestjs/microservices';
import { Partitions } from './partitions';

const SECRET = 'a-secret-of-sixteen';
const partition = (name: string, from: number, to: number) => ({
  name,
  queuePrefix: `${name}.`,
  stores: { from, to },
  databases: { order: `${name}_orders`, store: `${name}_store`, delivery: `${name}_delivery` },
});
const MAP = JSON.stringify({ partitions: [partition('north', 1, 999), partition('south', 1000, 1999), partition('east', 2000, 2999)] });

describe('Partitions', () => {
  const partitions = new Partitions(partitionMapOf(MAP, { QUEUE_PREFIX: '' }), SECRET, () => ({}) as ClientProxy);

  it('finds an order’s partition from its id alone: the key that signed it', () => {
    for (const route of partitions.all) {
      expect(partitions.ofOrder(newOrderId(route.orderIdSecret)).name).toBe(route.name);
    }
    // Minted before partitions (under ORDER_ID_SECRET itself): the default store's partition.
    expect(partitions.ofOrder(newOrderId(SECRET)).name).toBe('north');
    expect(partitions.default.orderIdSecret).toBe(SECRET);
  });

  it('routes a store by its id, and refuses an id no partition owns or a partition the map does not name', () => {
    expect(partitions.ofStore(1).name).toBe('north');
    expect(partitions.ofStore(2500).name).toBe('east');
    expect(() => partitions.ofStore(3000)).toThrow(expect.objectContaining({ code: 'STORE_NOT_FOUND', status: 404 }));
    expect(partitions.named(undefined).name).toBe('north');
    expect(() => partitions.named('west')).toThrow(expect.objectContaining({ code: 'PARTITION_NOT_FOUND', status: 404 }));
  });
});
