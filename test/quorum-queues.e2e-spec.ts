import { Queue, queueName } from '@app/contracts';
import { connect } from 'amqplib';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestSystem } from './support/harness';

jest.setTimeout(90_000);

// RMQ_QUEUE_TYPE=quorum, as on a RabbitMQ cluster (README, "Running beyond one machine"). A single
// node runs quorum queues too, so the whole protocol is checked on them here.
const t = new TestSystem('quorum', 3906, { RMQ_QUEUE_TYPE: 'quorum' });

beforeAll(() => t.start());
afterAll(() => t.stop());

it('places orders over quorum queues, every service consuming its own', async () => {
  const foodId = (await t.post('/foods', { name: 'Idli', packets: 2 })).body.id;
  expect((await t.post('/agents', { count: 3 })).status).toBe(201);

  const answers = await Promise.all([1, 2, 3].map(() => t.post('/orders', { foodId })));

  expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 409]);
  const report = await t.settled();
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);

  const broker = await connect(t.rmq.url);
  try {
    for (const queue of Object.values(Queue)) {
      const name = queueName(t.env.QUEUE_PREFIX, queue);
      const channel = await broker.createChannel();
      await expect(channel.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'quorum' } })).resolves.toMatchObject({
        consumerCount: 1,
      });
      // Declaring it as a classic queue is refused: it really is a quorum queue.
      const classic = await broker.createChannel();
      classic.on('error', () => undefined);
      await expect(classic.assertQueue(name, { durable: true, arguments: { 'x-queue-type': 'classic' } })).rejects.toThrow(
        /PRECONDITION_FAILED/,
      );
      await channel.close();
    }
  } finally {
    await broker.close();
  }
});

// The broker cancels a consumer when its queue is deleted, or on a cluster becomes unavailable:
// the service must consume again, not run on deaf.
it('consumes again when the broker cancels its consumers: every queue deleted under the running system', async () => {
  const broker = await connect(t.rmq.url);
  try {
    const channel = await broker.createChannel();
    for (const queue of Object.values(Queue)) await channel.deleteQueue(queueName(t.env.QUEUE_PREFIX, queue));
  } finally {
    await broker.close();
  }

  const giveUpAt = Date.now() + 20_000;
  let health = await fetch(`${t.url}/health`);
  while (health.status !== 200 && Date.now() < giveUpAt) {
    await sleep(200);
    health = await fetch(`${t.url}/health`);
  }
  expect(health.status).toBe(200);

  const foodId = (await t.post('/foods', { name: 'Dosa', packets: 1 })).body.id;
  expect((await t.post('/agents', { count: 1 })).status).toBe(201);
  expect((await t.post('/orders', { foodId })).status).toBe(201);
  const report = await t.settled();
  expect(report.violations).toEqual([]);
  expect(report.pending).toBe(0);
});

// A queue of another type is what a service meets when RMQ_QUEUE_TYPE changed without its queues
// being moved (docs/operations.md, "Running beyond one machine"): the broker refuses the service's setup.
it('survives a queue setup the broker refuses, and consumes once the queue can be declared', async () => {
  const name = queueName(t.env.QUEUE_PREFIX, Queue.ORDER);
  await t.system.stop('order');
  const broker = await connect(t.rmq.url);
  try {
    const channel = await broker.createChannel();
    await channel.deleteQueue(name);
    await channel.assertQueue(name, { durable: true });

    const from = readFileSync(t.logFile, 'utf8').length;
    const refusals = () => readFileSync(t.logFile, 'utf8').slice(from).split(`Setting up ${name} failed`).length - 1;
    t.system.spawn('order');
    // Each try declares the queue as a quorum queue, is refused, and tries again on a new connection.
    await t.until(async () => refusals() >= 3, 20_000, 'the order service to be refused three times');
    t.expectRunning();
    expect((await fetch(`${t.url}/health`)).status).toBe(503);

    await channel.deleteQueue(name);
  } finally {
    await broker.close();
  }
  await t.until(async () => (await fetch(`${t.url}/health`)).status === 200, 20_000, 'the system to be healthy');
  const foodId = (await t.post('/foods', { name: 'Vada', packets: 1 })).body.id;
  expect((await t.post('/agents', { count: 1 })).status).toBe(201);
  expect((await t.post('/orders', { foodId })).status).toBe(201);
  t.expectRunning();
});
