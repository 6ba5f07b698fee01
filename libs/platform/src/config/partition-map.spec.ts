import { partitionOrderIdSecret } from '@app/contracts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RabbitEnv, validateEnv } from './env';
import { parsePartitionMap, partitionMapOf } from './partition-map';
import { IsString } from 'class-validator';

const partition = (name: string, from: number, to: number) => ({
  name,
  queuePrefix: `${name}.`,
  stores: { from, to },
  databases: { order: `${name}_orders`, store: `${name}_store`, delivery: `${name}_delivery` },
});
const MAP = JSON.stringify({ partitions: [partition('north', 1, 999), partition('south', 1000, 1999)] });

/** A service's env with a database name and the order id secret, as the order service has. */
class ServiceEnv extends RabbitEnv {
  @IsString()
  ORDER_DB_NAME: string = 'orders';

  @IsString()
  ORDER_ID_SECRET: string = 'a-secret-of-sixteen';
}

class RouterEnv extends RabbitEnv {
  override partitionRole(): 'router' {
    return 'router';
  }
}

describe('PARTITION_MAP', () => {
  it('routes store ids by range, inline or from a file, and names the default store’s partition', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'map-')), 'partitions.json');
    writeFileSync(file, MAP);
    for (const source of [MAP, file]) {
      const map = partitionMapOf(source, { QUEUE_PREFIX: '' });
      expect(map.default.name).toBe('north');
      expect(map.ofStore(1500)?.name).toBe('south');
      expect(map.ofStore(2000)).toBeUndefined();
    }
  });

  it('without a map, is one partition of every store id with the plain settings', () => {
    const map = partitionMapOf('', { QUEUE_PREFIX: 'x.', STORE_DB_NAME: 's' });
    expect(map.configured).toBe(false);
    expect(map.partitions).toEqual([
      expect.objectContaining({ name: 'default', queuePrefix: 'x.', databases: { order: 'orders', store: 's', delivery: 'delivery' } }),
    ]);
    expect(map.ofStore(2_000_000_000)?.name).toBe('default');
  });

  it.each([
    ['not JSON', '{"partitions": [', /not valid JSON/],
    ['a missing file', '/nowhere/partitions.json', /no file "\/nowhere\/partitions.json"/],
    ['no partitions', '{"partitions": []}', /at least one partition/],
    ['overlapping ranges', JSON.stringify({ partitions: [partition('a', 1, 10), partition('b', 10, 20)] }), /ranges of a and b overlap/],
    ['no owner of store 1', JSON.stringify({ partitions: [partition('a', 2, 10)] }), /no partition owns the default dark store/],
    [
      'a shared database',
      JSON.stringify({ partitions: [partition('a', 1, 10), { ...partition('b', 11, 20), databases: partition('a', 0, 0).databases }] }),
      /database "a_orders" is used by two partitions/,
    ],
    ['a bad range', JSON.stringify({ partitions: [partition('a', 10, 1)] }), /partitions\[0\] \(a\): stores must be/],
    ['a bad name', JSON.stringify({ partitions: [partition('a b', 1, 10)] }), /name must be/],
  ])('refuses %s, saying what is wrong', (_, source, message) => {
    expect(() => parsePartitionMap(source)).toThrow(message);
  });

  it('gives a service its partition’s settings, its own order id key outside the default partition, and refuses a disagreeing one', () => {
    const south = validateEnv(ServiceEnv)({ PARTITION_MAP: MAP, PARTITION: 'south' });
    expect(south).toMatchObject({ QUEUE_PREFIX: 'south.', ORDER_DB_NAME: 'south_orders' });
    expect(south.ORDER_ID_SECRET).toBe(partitionOrderIdSecret('a-secret-of-sixteen', 'south'));
    expect(validateEnv(ServiceEnv)({ PARTITION_MAP: MAP, PARTITION: 'north' }).ORDER_ID_SECRET).toBe('a-secret-of-sixteen');
    expect(validateEnv(ServiceEnv)({ PARTITION_MAP: MAP, PARTITION: 'south', QUEUE_PREFIX: 'south.' }).QUEUE_PREFIX).toBe('south.');
    expect(() => validateEnv(ServiceEnv)({ PARTITION_MAP: MAP, PARTITION: 'south', ORDER_DB_NAME: 'orders' })).toThrow(
      /ORDER_DB_NAME="orders": disagrees with partition south of PARTITION_MAP \("south_orders"\)/,
    );
    expect(() => validateEnv(ServiceEnv)({ PARTITION_MAP: MAP, PARTITION: 'east' })).toThrow(
      /PARTITION="east": must name .* \(north, south\)/,
    );
    expect(() => validateEnv(ServiceEnv)({ PARTITION_MAP: MAP })).toThrow(/PARTITION="": must name/);
    expect(() => validateEnv(ServiceEnv)({ PARTITION: 'south' })).toThrow(/needs PARTITION_MAP/);
    expect(() => validateEnv(ServiceEnv)({ PARTITION_MAP: '{"partitions": 1}', PARTITION: 'south' })).toThrow(
      /PARTITION_MAP: PARTITION_MAP must be/,
    );
  });

  it('lets a gateway route to every partition, and refuses it a PARTITION or a QUEUE_PREFIX it would ignore', () => {
    expect(validateEnv(RouterEnv)({ PARTITION_MAP: MAP }).PARTITION_MAP).toBe(MAP);
    expect(() => validateEnv(RouterEnv)({ PARTITION_MAP: MAP, PARTITION: 'south' })).toThrow(/a gateway routes to every partition/);
    expect(() => validateEnv(RouterEnv)({ PARTITION_MAP: MAP, QUEUE_PREFIX: 'x.' })).toThrow(/QUEUE_PREFIX: must be unset/);
  });
});
