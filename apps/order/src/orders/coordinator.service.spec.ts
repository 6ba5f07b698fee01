import { ErrorCode, newOrderId, NotPlacedReason, OrderState, OrderView, PlaceOrderCommand } from '@app/contracts';
import { ContractException, DEV_ORDER_ID_SECRET, RpcCallError } from '@app/platform';
import { Test } from '@nestjs/testing';
import { v7 } from 'uuid';
import { OrderEnv } from '../config/order.env';
import { CoordinatorService } from './coordinator.service';
import { FaultPoints } from './fault-points';
import { IdempotencyKeys } from './idempotency-keys.service';
import { OrderJournal } from './order-journal.service';
import { Participants } from './participants';
import { MemoryJournal } from './testing/memory-journal';
import { MemoryParticipants } from './testing/memory-participants';

/** IdempotencyKeys over the memory journal. */
async function memoryEarlierOrder(journal: MemoryJournal, command: PlaceOrderCommand): Promise<OrderView | undefined> {
  const orderId = command.idempotencyKey && journal.orderOfKey(command.idempotencyKey);
  if (!orderId || orderId === command.orderId) return undefined;
  const order = (await journal.view(orderId))!;
  if (JSON.stringify(order.items.map(({ foodId, quantity }) => ({ foodId, quantity }))) !== JSON.stringify(command.items)) {
    throw new ContractException(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'reused');
  }
  return order;
}

/** A cart of one packet of `foodId` from dark store 1, as the single-food form of POST /orders makes. */
const cartOf = (foodId: number) => ({ storeId: 1, items: [{ foodId, quantity: 1 }] });

/** An order id as the gateways mint it, at `msecs`. */
const minted = (msecs: number) => newOrderId(DEV_ORDER_ID_SECRET, msecs);
const refusal = (code: ErrorCode) => Promise.reject(new RpcCallError(code, code));

describe('CoordinatorService', () => {
  let coordinator: CoordinatorService;
  let journal: MemoryJournal;
  let participants: Record<keyof Participants, jest.Mock>;
  const command = (): PlaceOrderCommand => ({ orderId: minted(Date.now()), ...cartOf(7), deadline: Date.now() + 10_000 });

  beforeEach(async () => {
    journal = new MemoryJournal();
    participants = {
      onApplicationBootstrap: jest.fn(),
      reserveCart: jest.fn((orderId: string) => Promise.resolve({ orderId, items: [{ foodId: 7, quantity: 1, packetIds: [11] }] })),
      reserveAgent: jest.fn((orderId: string) => Promise.resolve({ orderId, agentId: 22 })),
      yieldAgent: jest.fn((orderId: string) => Promise.resolve({ orderId, freed: 1 })),
      assignPackets: jest.fn((orderId: string) => Promise.resolve({ orderId, packetIds: [11] })),
      assignAgent: jest.fn((orderId: string) => Promise.resolve({ orderId, agentId: 22 })),
      releasePackets: jest.fn((orderId: string) => Promise.resolve({ orderId, freed: 1 })),
      releaseAgent: jest.fn((orderId: string) => Promise.resolve({ orderId, freed: 1 })),
      completeDelivery: jest.fn((orderId: string) => Promise.resolve({ orderId, freed: 1 })),
    };
    const env = Object.assign(new OrderEnv(), {
      CONTENTION_WAIT_MS: 200,
      RETRY_BASE_MS: 1,
      PHASE2_ATTEMPTS: 3,
      ORDER_LOST_AFTER_MS: 60_000,
    });
    const module = await Test.createTestingModule({
      providers: [
        CoordinatorService,
        { provide: OrderJournal, useValue: journal },
        { provide: IdempotencyKeys, useValue: { earlierOrder: (c: PlaceOrderCommand) => memoryEarlierOrder(journal, c) } },
        { provide: Participants, useValue: participants },
        { provide: FaultPoints, useValue: { reach: jest.fn() } },
        { provide: OrderEnv, useValue: env },
      ],
    }).compile();
    coordinator = module.get(CoordinatorService);
  });

  it('logs the commit decision before assigning, and places the order when both sides assign', async () => {
    participants.assignPackets.mockImplementation(async (orderId: string) => {
      expect(journal.orders.get(orderId)?.state).toBe(OrderState.COMMITTING);
      return { orderId, packetIds: [11] };
    });

    const waiting = jest.fn();
    const order = await coordinator.place(command(), waiting);

    expect(order).toMatchObject({ state: OrderState.PLACED, packetId: 11, agentId: 22 });
    expect(waiting).not.toHaveBeenCalled();
    expect(journal.history).toEqual([OrderState.RESERVING, OrderState.COMMITTING, OrderState.PLACED]);
  });

  it('refuses with the participant reason and releases both sides', async () => {
    participants.reserveCart.mockImplementation(() => refusal(ErrorCode.OUT_OF_STOCK));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.OUT_OF_STOCK });
    expect(participants.releasePackets).toHaveBeenCalledWith(order.orderId);
    expect(participants.releaseAgent).toHaveBeenCalledWith(order.orderId);
    expect(participants.assignPackets).not.toHaveBeenCalled();
  });

  it('ends a reserve refused as older than the retention horizon as a final refusal, and releases both sides', async () => {
    participants.reserveAgent.mockImplementation(() => refusal(ErrorCode.ORDER_TOO_OLD));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_EXPIRED });
    expect(participants.reserveAgent).toHaveBeenCalledTimes(1);
    expect(participants.releasePackets).toHaveBeenCalledWith(order.orderId);
    expect(participants.releaseAgent).toHaveBeenCalledWith(order.orderId);
  });

  it('gives its agent back while it waits for a packet held by orders still deciding, then asks again', async () => {
    participants.reserveCart
      .mockImplementationOnce(() => refusal(ErrorCode.ALL_RESERVED))
      .mockImplementationOnce(() => refusal(ErrorCode.ALL_RESERVED));

    const waiting = jest.fn();
    const order = await coordinator.place(command(), waiting);

    expect(order.state).toBe(OrderState.PLACED);
    // Told once that it waits, so its batch's other orders need not wait with it.
    expect(waiting).toHaveBeenCalledTimes(1);
    expect(participants.yieldAgent).toHaveBeenCalledTimes(1);
    expect(participants.reserveCart).toHaveBeenCalledTimes(3);
    // The agent is asked for again only once a packet is held.
    expect(participants.reserveAgent).toHaveBeenCalledTimes(2);
  });

  it('refuses once the contention wait is over', async () => {
    participants.reserveAgent.mockImplementation(() => refusal(ErrorCode.ALL_RESERVED));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.NO_AGENT });
    expect(participants.releasePackets).toHaveBeenCalled();
  });

  it('aborts as SERVICE_UNAVAILABLE when a reserve times out, releasing both sides', async () => {
    participants.reserveAgent.mockImplementation(() => refusal(ErrorCode.SERVICE_UNAVAILABLE));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.SERVICE_UNAVAILABLE });
    expect(participants.releaseAgent).toHaveBeenCalled();
  });

  it('retries an assign whose outcome is unknown, and places the order when a retry succeeds', async () => {
    participants.assignAgent.mockImplementationOnce(() => refusal(ErrorCode.SERVICE_UNAVAILABLE));

    const order = await coordinator.place(command());

    expect(order.state).toBe(OrderState.PLACED);
    expect(participants.assignAgent).toHaveBeenCalledTimes(2);
  });

  it('never aborts a decided order because a participant stays unreachable: it stays COMMITTING, and recovery places it', async () => {
    participants.assignAgent.mockImplementation(() => refusal(ErrorCode.SERVICE_UNAVAILABLE));

    const order = await coordinator.place(command());

    expect(order.state).toBe(OrderState.COMMITTING);
    expect(participants.releasePackets).not.toHaveBeenCalled();
    expect(participants.releaseAgent).not.toHaveBeenCalled();
    expect(journal.history).toEqual([OrderState.RESERVING, OrderState.COMMITTING]);

    // The agent's side answers again; recovery, which takes the order over, assigns and places it.
    participants.assignAgent.mockImplementation((orderId: string, agentId: number) => Promise.resolve({ orderId, agentId }));
    journal.expireLease(order.orderId);
    const stored = await journal.find(order.orderId);
    const lease = await journal.claim(stored!);
    expect(lease).toBeDefined();
    const resumed = await coordinator.resume(stored!, lease!);
    expect(resumed.state).toBe(OrderState.PLACED);
  });

  it('compensates when a reservation was lost before its assign: releases what the other side assigned', async () => {
    participants.assignPackets.mockImplementation(() => refusal(ErrorCode.RESERVATION_LOST));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({
      state: OrderState.NOT_PLACED,
      reason: NotPlacedReason.RESERVATION_EXPIRED,
      packetId: null,
      agentId: null,
    });
    expect(participants.assignPackets).toHaveBeenCalledTimes(1);
    expect(participants.releaseAgent).toHaveBeenCalled();
    expect(journal.history).toEqual([OrderState.RESERVING, OrderState.COMMITTING, OrderState.ABORTING, OrderState.NOT_PLACED]);
  });

  it('stays ABORTING, for recovery to finish, while a release is unconfirmed', async () => {
    participants.reserveCart.mockImplementation(() => refusal(ErrorCode.UNKNOWN_FOOD));
    participants.releaseAgent.mockImplementation(() => refusal(ErrorCode.SERVICE_UNAVAILABLE));

    const order = await coordinator.place(command());

    expect(order).toMatchObject({ state: OrderState.ABORTING, reason: NotPlacedReason.UNKNOWN_FOOD });
    expect(participants.releaseAgent).toHaveBeenCalledTimes(3);
  });

  it('refuses a command that arrives after the gateway stopped waiting, without reserving', async () => {
    const order = await coordinator.place({ ...command(), deadline: Date.now() - 1 });

    expect(order).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_EXPIRED });
    expect(participants.reserveCart).not.toHaveBeenCalled();
  });

  it('records an order it never saw as lost once its command can no longer start, and then refuses that command', async () => {
    const lost = minted(Date.now() - 61_000);

    await expect(coordinator.get(lost)).rejects.toMatchObject({ error: { code: ErrorCode.ORDER_NOT_FOUND } });
    expect(await coordinator.lookUpOrRecordLost(lost)).toMatchObject({
      state: OrderState.NOT_PLACED,
      reason: NotPlacedReason.REQUEST_LOST,
    });

    const late = await coordinator.place({ orderId: minted(Date.now() - 61_000), ...cartOf(7), deadline: Date.now() + 10_000 });
    expect(late).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_EXPIRED });
    expect(participants.reserveCart).not.toHaveBeenCalled();
  });

  it('answers an order it never saw, minted less than ORDER_LOST_AFTER_MS ago, as still pending, and records nothing', async () => {
    const young = minted(Date.now() - 59_000);

    await expect(coordinator.lookUpOrRecordLost(young)).rejects.toMatchObject({ error: { code: ErrorCode.ORDER_PENDING } });
    expect(await journal.view(young)).toBeNull();
  });

  it('records nothing for an old id no gateway minted: a made-up id is not found, whatever its age', async () => {
    const madeUp = v7({ msecs: Date.now() - 61_000 });
    const real = minted(Date.now() - 61_000);
    const forged = real.slice(0, -1) + (real.endsWith('0') ? '1' : '0');

    for (const orderId of [madeUp, forged]) {
      await expect(coordinator.lookUpOrRecordLost(orderId)).rejects.toMatchObject({ error: { code: ErrorCode.ORDER_NOT_FOUND } });
      expect(await journal.view(orderId)).toBeNull();
    }
  });

  it('answers a redelivered command with the order as it is, without running it twice', async () => {
    const cmd = command();
    await coordinator.place(cmd);

    const again = await coordinator.place(cmd);

    expect(again.state).toBe(OrderState.PLACED);
    expect(participants.reserveCart).toHaveBeenCalledTimes(1);
  });

  it('answers a retry with the same Idempotency-Key with the first order, and refuses the key for another food', async () => {
    const first = await coordinator.place({ ...command(), idempotencyKey: 'k-1' });
    const retry = await coordinator.place({ ...command(), idempotencyKey: 'k-1' });
    expect(retry).toEqual(first);
    expect(participants.reserveCart).toHaveBeenCalledTimes(1);
    await expect(coordinator.place({ ...command(), ...cartOf(8), idempotencyKey: 'k-1' })).rejects.toMatchObject({
      error: { code: ErrorCode.IDEMPOTENCY_KEY_REUSED },
    });
    expect(journal.orders.size).toBe(1);
  });
});

/**
 * Races between drivers of one order, against participants that keep their real contract
 * (MemoryParticipants) and the journal's real compare-and-set on the lease (MemoryJournal).
 */
describe('CoordinatorService with two drivers of one order', () => {
  let coordinator: CoordinatorService;
  let journal: MemoryJournal;
  let participants: MemoryParticipants;
  const command = (): PlaceOrderCommand => ({ orderId: minted(Date.now()), ...cartOf(7), deadline: Date.now() + 10_000 });

  async function build(packets: number, agents: number, leaseMs = 60_000, retentionMs?: number): Promise<void> {
    journal = new MemoryJournal(leaseMs);
    participants = new MemoryParticipants(packets, agents, retentionMs);
    const env = Object.assign(new OrderEnv(), {
      CONTENTION_WAIT_MS: 2_000,
      RETRY_BASE_MS: 1,
      PHASE2_ATTEMPTS: 3,
      ORDER_LOST_AFTER_MS: 60_000,
    });
    const module = await Test.createTestingModule({
      providers: [
        CoordinatorService,
        { provide: OrderJournal, useValue: journal },
        { provide: IdempotencyKeys, useValue: { earlierOrder: (c: PlaceOrderCommand) => memoryEarlierOrder(journal, c) } },
        { provide: Participants, useValue: participants },
        { provide: FaultPoints, useValue: { reach: jest.fn() } },
        { provide: OrderEnv, useValue: env },
      ],
    }).compile();
    coordinator = module.get(CoordinatorService);
  }

  /** I2 for one order: it holds exactly the packet and agent it logged, assigned, and nothing else. */
  function expectHoldsWhatItLogged(orderId: string): void {
    const order = journal.orders.get(orderId)!;
    expect(order.state).toBe(OrderState.PLACED);
    expect(participants.packets.filter((r) => r.orderId === orderId)).toEqual([
      expect.objectContaining({ id: order.items[0].packetIds[0], state: 'ASSIGNED' }),
    ]);
    expect(participants.agents.filter((r) => r.orderId === orderId)).toEqual([
      expect.objectContaining({ id: order.agentId, state: 'ASSIGNED' }),
    ]);
  }

  const calls = (method: string) => participants.calls.filter((c) => c.method === method).length;
  /** Lets every promise that can settle do so. */
  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

  it('runs phase 1 once when the same command arrives twice; the copy answers with the first driver’s outcome', async () => {
    // The review's interleaving: driver X holds agent 1 while packet 1 is held by another order,
    // gives the agent back (delayed), a copy Y of the command arrives as the packet frees up, an
    // order takes agent 1 once X's yield lands; every assign is slow.
    await build(1, 3);
    participants.holdFor(participants.packets, 1, 'another-order');
    const yieldGate = participants.gate('yieldAgent');
    const assignGates = [participants.gate('assignPackets'), participants.gate('assignAgent')];
    const cmd = command();

    const first = coordinator.place(cmd);
    await yieldGate.reached;
    participants.free(participants.packets, 1);
    const copy = coordinator.place(cmd);
    await settle();
    // Another order takes agent 1 as soon as a yield frees it.
    participants.afterYield = () => {
      if (participants.agents[0].state === 'FREE') participants.holdFor(participants.agents, 1, 'agent-thief');
    };
    yieldGate.open();
    await settle();
    for (const gate of assignGates) gate.open();
    const [answer, copyAnswer] = await Promise.all([first, copy]);

    expect(answer).toMatchObject({ state: OrderState.PLACED });
    expect(copyAnswer).toEqual(answer);
    expectHoldsWhatItLogged(cmd.orderId);
    // One driver: two packet reserves (the contended one and the one after the yield), no third.
    expect(calls('reserveCart')).toBe(2);
  });

  it('answers a copy of the command, while the first driver decides, with the outcome once it is decided', async () => {
    await build(1, 1);
    const gate = participants.gate('assignAgent');
    const cmd = command();

    const first = coordinator.place(cmd);
    await gate.reached;
    const copy = coordinator.place(cmd);
    await settle();
    expect(calls('reserveCart')).toBe(1);
    gate.open();

    expect(await copy).toEqual(await first);
    expectHoldsWhatItLogged(cmd.orderId);
  });

  it('never lets a driver that lost its lease decide: a copy of the command takes the order over and aborts it', async () => {
    await build(1, 1);
    const gate = participants.gate('reserveAgent');
    const cmd = command();

    const stopped = coordinator.place(cmd);
    await gate.reached;
    // The first driver stalls in phase 1 past its lease (a process stopped with SIGSTOP).
    journal.expireLease(cmd.orderId);
    const copy = await coordinator.place(cmd);
    expect(copy).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.COORDINATOR_RECOVERY });
    gate.open();

    expect(await stopped).toMatchObject({ state: OrderState.NOT_PLACED });
    expect(calls('assignPackets') + calls('assignAgent')).toBe(0);
    expect(participants.packets[0]).toMatchObject({ state: 'FREE', orderId: null });
    expect(participants.agents[0]).toMatchObject({ state: 'FREE', orderId: null });
  });

  it('gives an agent back by naming it and the reserve attempt that holds it, so a late copy of the yield frees nothing', async () => {
    await build(1, 1);
    participants.holdFor(participants.packets, 1, 'another-order');
    const yieldGate = participants.gate('yieldAgent');
    const assignGate = participants.gate('assignAgent');
    const cmd = command();

    const placing = coordinator.place(cmd);
    await yieldGate.reached;
    participants.free(participants.packets, 1);
    yieldGate.open();
    await assignGate.reached;
    // The only agent, reserved again by attempt 2 and logged COMMITTING; the first yield comes again.
    const [firstYield] = participants.calls.filter((c) => c.method === 'yieldAgent');
    expect(firstYield.args).toEqual([cmd.orderId, 1, 1]);
    expect(await participants.yieldAgent(...(firstYield.args as [string, number, number]))).toEqual({ orderId: cmd.orderId, freed: 0 });
    assignGate.open();

    expect(await placing).toMatchObject({ state: OrderState.PLACED, agentId: 1 });
    expectHoldsWhatItLogged(cmd.orderId);
  });

  it('aborts a driver stalled in phase 1 past the retention horizon, holding nothing: its late reserve is refused', async () => {
    await build(1, 1, 60_000, 200);
    const agentGate = participants.gate('reserveAgent');
    const cmd = command();

    const placing = coordinator.place(cmd);
    await agentGate.reached;
    await new Promise((resolve) => setTimeout(resolve, 250));
    agentGate.open();

    expect(await placing).toMatchObject({ state: OrderState.NOT_PLACED, reason: NotPlacedReason.REQUEST_EXPIRED });
    expect([...participants.packets, ...participants.agents]).toEqual([
      expect.objectContaining({ state: 'FREE', orderId: null }),
      expect.objectContaining({ state: 'FREE', orderId: null }),
    ]);
  });
});
