import { validateEnv } from '@app/platform';
import { config as loadDotenv } from 'dotenv';
import { GatewayEnv } from '../apps/gateway/src/config/gateway.env';
import { System } from './system';

interface Seed {
  foods: { name: string; packets: number }[];
  agents: number;
}

const DEMO: Seed = {
  foods: [
    { name: 'Masala Dosa', packets: 20 },
    { name: 'Paneer Roll', packets: 10 },
  ],
  agents: 5,
};

/** `npm start`: the whole system in the foreground, with demo data when the databases are empty. */
async function main(): Promise<void> {
  // The same .env the apps read, so the seeding below sends the gateway's own admin key.
  loadDotenv({ quiet: true });
  const adminKey = validateEnv(GatewayEnv)(process.env).ADMIN_API_KEY;
  const system = new System();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping all services...');
    await system.stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  await system.start();
  system.onUnexpectedExit((name, code) => {
    console.error(`${name} exited unexpectedly (code ${code}); stopping the system`);
    void stop(1);
  });
  await seedIfEmpty(system.gatewayUrl, adminKey);
  console.log(`
The system is up. Try:
  curl -s ${system.gatewayUrl}/foods
  curl -s -X POST ${system.gatewayUrl}/orders -H 'content-type: application/json' -d '{"foodId": 1}'
  curl -s ${system.gatewayUrl}/agents
Ctrl-C stops everything.`);
}

async function seedIfEmpty(url: string, adminKey: string): Promise<void> {
  const foods = (await (await fetch(`${url}/foods`)).json()) as unknown[];
  if (foods.length === 0) {
    for (const food of DEMO.foods) await post(`${url}/foods`, food, adminKey);
    console.log(`Seeded demo foods: ${DEMO.foods.map((f) => `${f.name} (${f.packets} packets)`).join(', ')}`);
  }
  const { agents } = (await (await fetch(`${url}/agents`)).json()) as { agents: { total: number } };
  if (agents.total === 0) {
    await post(`${url}/agents`, { count: DEMO.agents }, adminKey);
    console.log(`Seeded ${DEMO.agents} demo delivery agents`);
  }
}

async function post(url: string, body: unknown, adminKey: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': adminKey },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${url} failed: ${res.status} ${await res.text()}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
