import {
  AddPacketsDto,
  AgentsCreated,
  CreateAgentsCommand,
  CreateAgentsDto,
  CreateStoreCommand,
  DeliveryPattern,
  FoodView,
  Queue,
  StoreAgents,
  StorePattern,
  StoreStock,
  StoreView,
} from '@app/contracts';
import { call, clientToken } from '@app/platform';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { randomUUID } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';

const NO_AGENTS = { free: 0, reserved: 0, assigned: 0, total: 0 };

/**
 * Dark stores as an admin sees them: the store service owns the stores and their packets, delivery
 * their agents; a store's view is both, read at once on the admin queues (never ahead of an order).
 * Every addition carries an Idempotency-Key, the client's or one minted here: a participant adds at
 * most once per key, so a redelivered message never adds twice, and a client retrying with its key
 * learns what its first request did. Reads expire once their caller stopped waiting (never run late).
 */
@Injectable()
export class StoresService {
  constructor(
    @Inject(clientToken(Queue.STORE_ADMIN)) private readonly store: ClientProxy,
    @Inject(clientToken(Queue.DELIVERY_ADMIN)) private readonly delivery: ClientProxy,
    private readonly env: GatewayEnv,
  ) {}

  async create(name: string, idempotencyKey: string = randomUUID()): Promise<{ id: number; name: string }> {
    const command: CreateStoreCommand = { name, idempotencyKey };
    const { id } = await call<StoreStock>(this.store, StorePattern.CREATE_STORE, command, this.env.ORDER_WAIT_MS);
    return { id, name };
  }

  /** Every dark store with its stock and its agents. */
  async list(): Promise<StoreView[]> {
    const [stores, agents] = await Promise.all([this.stock(), this.agents()]);
    return stores.map((store) => ({ ...store, agents: agents.find((a) => a.storeId === store.id)?.agents ?? NO_AGENTS }));
  }

  /** One dark store with its stock and its agents; STORE_NOT_FOUND if none has the id. */
  async view(storeId: number): Promise<StoreView> {
    const [[store], [agents]] = await Promise.all([this.stock(storeId), this.agents(storeId)]);
    return { ...store, agents: agents.agents };
  }

  addPackets(storeId: number, foodId: number, count: number, idempotencyKey: string = randomUUID()): Promise<FoodView> {
    const command: AddPacketsDto = { storeId, foodId, count, idempotencyKey };
    return call(this.store, StorePattern.ADD_PACKETS, command, this.env.ORDER_WAIT_MS);
  }

  /** Adds agents to a dark store: delivery trusts the store id it is given, so the store service is asked first whether it exists. */
  async addAgents(storeId: number, dto: CreateAgentsDto, idempotencyKey: string = randomUUID(), known = false): Promise<AgentsCreated> {
    if (!known) await this.stock(storeId);
    const command: CreateAgentsCommand = { ...dto, storeId, idempotencyKey };
    return call(this.delivery, DeliveryPattern.CREATE_AGENTS, command, this.env.ORDER_WAIT_MS);
  }

  /** Agent counts of every store that has agents, or of `storeId` only (zeros if it has none). */
  agents(storeId?: number): Promise<StoreAgents[]> {
    return call(this.delivery, DeliveryPattern.LIST_AGENTS, storeId === undefined ? {} : { storeId }, this.env.RPC_TIMEOUT_MS, {
      expire: true,
    });
  }

  private stock(storeId?: number): Promise<StoreStock[]> {
    return call(this.store, StorePattern.LIST_STORES, storeId === undefined ? {} : { storeId }, this.env.RPC_TIMEOUT_MS, { expire: true });
  }
}
