import { AgentsView, DEFAULT_STORE_ID, FoodView, StoreView } from '@app/contracts';
import { Partition, validateEnv } from '@app/platform';
import { config as loadDotenv } from 'dotenv';
import { GatewayEnv } from '../apps/gateway/src/config/gateway.env';
import { localPartitions, partitionCount } from './local-partitions';
import { System } from './system';

/**
 * The demo data of an empty system: a catalogue of foods; two dark stores, each with packets of
 * some of them and agents of its own; and a few packets and agents in the default store, which the
 * single-food API (POST /orders {"foodId"}, /foods, /agents) acts on.
 */
const CATALOGUE = ['Masala Dosa', 'Paneer Roll', 'Filter Coffee', 'Idli'];
const DEFAULT_STORE = { packetsPerFood: 5, agents: 3 };
const DARK_STORES: { name: string; packets: Record<string, number>; agents: number }[] = [
  { name: 'Koramangala', packets: { 'Masala Dosa': 20, 'Paneer Roll': 10, 'Filter Coffee': 30 }, agents: 5 },
  { name: 'Indiranagar', packets: { 'Masala Dosa': 10, 'Filter Coffee': 15, Idli: 25 }, agents: 3 },
];

/** The systems to run: the whole system, or each partition's services and one gateway routing to them. */
function systems(partitions: Partition[]): System[] {
  if (partitions.length === 0) return [new System()];
  const map = JSON.stringify({ partitions });
  const services = partitions.map((partition, i) => {
    const metricsPort = (variable: string, port: number) => String(Number(process.env[variable] ?? port) + 100 * i);
    const env = {
      PARTITION_MAP: map,
      PARTITION: partition.name,
      // As the map says, over whatever .env has (explicit settings must agree with the map).
      QUEUE_PREFIX: partition.queuePrefix,
      ORDER_DB_NAME: partition.databases.order,
      STORE_DB_NAME: partition.databases.store,
      DELIVERY_DB_NAME: partition.databases.delivery,
      ORDER_METRICS_PORT: metricsPort('ORDER_METRICS_PORT', 3001),
      STORE_METRICS_PORT: metricsPort('STORE_METRICS_PORT', 3002),
      DELIVERY_METRICS_PORT: metricsPort('DELIVERY_METRICS_PORT', 3003),
    };
    const output = (who: string, line: string) => process.stdout.write(`[${partition.name}/${who}] ${line}\n`);
    return new System({ env, services: ['store', 'delivery', 'order'], output });
  });
  return [...services, new System({ env: { PARTITION_MAP: map, QUEUE_PREFIX: '' }, services: ['gateway'] })];
}

/** `npm start`: the whole system in the foreground, with demo data when the databases are empty. */
async function main(): Promise<void> {
  // The same .env the apps read, so the seeding below sends the gateway's own admin key.
  loadDotenv({ quiet: true });
  const adminKey = validateEnv(GatewayEnv)(process.env).ADMIN_API_KEY;
  const partitions = localPartitions(partitionCount(), process.env);
  const all = systems(partitions);
  const gateway = all[all.length - 1];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping all services...');
    // The gateway first, so no new order starts while the others finish theirs.
    await gateway.stopAll();
    await Promise.all(all.map((system) => system.stopAll()));
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  for (const system of all) await system.start();
  for (const system of all) {
    system.onUnexpectedExit((name, code) => {
      console.error(`${name} exited unexpectedly (code ${code}); stopping the system`);
      void stop(1);
    });
  }
  const url = gateway.gatewayUrl;
  await seedIfEmpty(url, adminKey, partitions);
  if (partitions.length > 0) console.log(`Running ${partitions.length} partitions: ${partitions.map(describe).join('; ')}`);
  const cart = await exampleCart(url);
  console.log(`
The system is up. Try:
  curl -s ${url}/stores
  curl -s -X POST ${url}/orders -H 'content-type: application/json' -d '${JSON.stringify(cart)}'
  curl -s -X POST ${url}/orders -H 'content-type: application/json' -d '{"foodId": ${cart.items[0].foodId}}'
  curl -s ${url}/foods
Ctrl-C stops everything.`);
}

function describe({ name, stores, queuePrefix, databases }: Partition): string {
  return `${name}: stores ${stores.from}-${stores.to}, queues "${queuePrefix}*", databases ${Object.values(databases).join(', ')}`;
}

/** GET /stores: the list, or with partitions the stores of every partition that answered. */
async function listStores(url: string): Promise<StoreView[]> {
  const listing = await get<StoreView[] | { stores: StoreView[] }>(`${url}/stores`);
  return Array.isArray(listing) ? listing : listing.stores;
}

/**
 * Seeds each part of the demo data that is missing: the catalogue, the default store's agents, the
 * two dark stores (with partitions, one in each of the first two).
 */
async function seedIfEmpty(url: string, adminKey: string, partitions: Partition[]): Promise<void> {
  let foods = await get<FoodView[]>(`${url}/foods`);
  if (foods.length === 0) {
    for (const name of CATALOGUE) await post(`${url}/foods`, { name, packets: DEFAULT_STORE.packetsPerFood }, adminKey);
    foods = await get<FoodView[]>(`${url}/foods`);
    console.log(`Seeded the foods ${CATALOGUE.join(', ')}, ${DEFAULT_STORE.packetsPerFood} packets of each in the default store`);
  }
  const { agents } = await get<AgentsView>(`${url}/agents`);
  if (agents.total === 0) {
    await post(`${url}/agents`, { count: DEFAULT_STORE.agents }, adminKey);
    console.log(`Seeded ${DEFAULT_STORE.agents} delivery agents in the default store`);
  }
  const stores = await listStores(url);
  if (stores.some((store) => store.id !== DEFAULT_STORE_ID)) return;
  const foodId = new Map(foods.map((food) => [food.name, food.id]));
  for (const [i, store] of DARK_STORES.entries()) {
    const partition = partitions.length > 0 ? { partition: partitions[i % partitions.length].name } : {};
    const { id } = await post<{ id: number }>(`${url}/stores`, { name: store.name, ...partition }, adminKey);
    for (const [food, count] of Object.entries(store.packets)) {
      // A catalogue kept from an earlier run may lack a demo food: that store goes without it.
      if (foodId.has(food)) await post(`${url}/stores/${id}/packets`, { foodId: foodId.get(food), count }, adminKey);
    }
    await post(`${url}/stores/${id}/agents`, { count: store.agents }, adminKey);
    const stock = Object.entries(store.packets).map(([food, count]) => `${count} ${food}`);
    console.log(`Seeded the dark store ${store.name} (id ${id}): ${stock.join(', ')}; ${store.agents} delivery agents`);
  }
}

/** A cart the system can place now: two foods with free packets of a dark store with a free agent (the default store's if none). */
async function exampleCart(url: string): Promise<{ storeId: number; items: { foodId: number; quantity: number }[] }> {
  const stores = await listStores(url);
  const ready = (store: StoreView) => store.agents.free > 0 && store.foods.some((food) => food.packets.free > 0);
  const store = stores.find((s) => s.id !== DEFAULT_STORE_ID && ready(s)) ?? stores.find(ready) ?? stores[0];
  const foods = store.foods.filter((food) => food.packets.free > 0).slice(0, 2);
  const lines = foods.length > 0 ? foods : store.foods.slice(0, 1);
  return { storeId: store.id, items: lines.map((food, i) => ({ foodId: food.id, quantity: i === 0 && food.packets.free > 1 ? 2 : 1 })) };
}

async function get<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function post<T = unknown>(url: string, body: unknown, adminKey: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
