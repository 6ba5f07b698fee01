import {
  AddPacketsDto,
  AgentsCreated,
  AgentsView,
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
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { GatewayEnv } from '../config/gateway.env';
import { PartitionRoute, Partitions } from '../partitions/partitions';

const NO_AGENTS = { free: 0, reserved: 0, assigned: 0, total: 0 };

/**
 * Dark stores as an admin sees them: the store service owns the stores and their packets, delivery
 * their agents; a store's view is both, read at once on the admin queues (never ahead of an order).
 * Every addition carries an Idempotency-Key, the client's or one minted here: a participant adds at
 * most once per key, so a redelivered message never adds twice, and a client retrying with its key
 * learns what its first request did. Reads expire once their caller stopped waiting (never run late).
 * Each request goes to the partition of its store (see Partitions).
 */
@Injectable()
export class StoresService {
  constructor(
    private readonly partitions: Partitions,
    private readonly env: GatewayEnv,
  ) {}

  /** A dark store in the named partition (absent: the default store's), which gives it an id of its range. */
  async create(name: string, partition?: string, idempotencyKey: string = randomUUID()): Promise<StoreCreated> {
    const route = this.partitions.named(partition);
    const command: CreateStoreCommand = { name, idempotencyKey };
    const { id } = await route.call<StoreStock>(Queue.STORE_ADMIN, StorePattern.CREATE_STORE, command, this.env.ORDER_WAIT_MS);
    return this.partitions.configured ? { id, name, partition: route.name } : { id, name };
  }

  /**
   * Every dark store with its stock and its agents. With partitions, every partition's at once, and
   * the ones that did not answer named in `unavailable` rather than failing the whole listing.
   */
  async list(): Promise<StoreView[] | StoreListing> {
    if (!this.partitions.configured) return this.listOf(this.partitions.default);
    const { answers, unavailable } = await this.partitions.fromEach((route) => this.listOf(route));
    return { stores: answers.flat().sort((a, b) => a.id - b.id), unavailable };
  }

  /** One dark store with its stock and its agents; STORE_NOT_FOUND if none has the id. */
  async view(storeId: number): Promise<StoreView> {
    const route = this.partitions.ofStore(storeId);
    const [[store], [agents]] = await Promise.all([this.stock(route, storeId), this.agentsOf(route, storeId)]);
    return { ...store, agents: agents.agents };
  }

  addPackets(storeId: number, foodId: number, count: number, idempotencyKey: string = randomUUID()): Promise<FoodView> {
    const command: AddPacketsDto = { storeId, foodId, count, idempotencyKey };
    return this.partitions.ofStore(storeId).call(Queue.STORE_ADMIN, StorePattern.ADD_PACKETS, command, this.env.ORDER_WAIT_MS);
  }

  /** Adds agents to a dark store: delivery trusts the store id it is given, so the store service is asked first whether it exists. */
  async addAgents(storeId: number, dto: CreateAgentsDto, idempotencyKey: string = randomUUID(), known = false): Promise<AgentsCreated> {
    const route = this.partitions.ofStore(storeId);
    if (!known) await this.stock(route, storeId);
    const command: CreateAgentsCommand = { ...dto, storeId, idempotencyKey };
    return route.call(Queue.DELIVERY_ADMIN, DeliveryPattern.CREATE_AGENTS, command, this.env.ORDER_WAIT_MS);
  }

  /** Agent counts of one dark store (zeros if it has none). */
  async agents(storeId: number): Promise<AgentsView> {
    const [{ agents }] = await this.agentsOf(this.partitions.ofStore(storeId), storeId);
    return { agents };
  }

  private async listOf(route: PartitionRoute): Promise<StoreView[]> {
    const [stores, agents] = await Promise.all([this.stock(route), this.agentsOf(route)]);
    return stores.map((store) => ({ ...store, agents: agents.find((a) => a.storeId === store.id)?.agents ?? NO_AGENTS }));
  }

  /** Agent counts of every store of the partition that has agents, or of `storeId` only. */
  private agentsOf(route: PartitionRoute, storeId?: number): Promise<StoreAgents[]> {
    const query = storeId === undefined ? {} : { storeId };
    return route.call(Queue.DELIVERY_ADMIN, DeliveryPattern.LIST_AGENTS, query, this.env.RPC_TIMEOUT_MS, { expire: true });
  }

  private stock(route: PartitionRoute, storeId?: number): Promise<StoreStock[]> {
    const query = storeId === undefined ? {} : { storeId };
    return route.call(Queue.STORE_ADMIN, StorePattern.LIST_STORES, query, this.env.RPC_TIMEOUT_MS, { expire: true });
  }
}

/** POST /stores: the new store, and with partitions the partition that holds it. */
export interface StoreCreated {
  id: number;
  name: string;
  partition?: string;
}

/** GET /stores with partitions: every partition's stores, and the partitions that did not answer. */
export interface StoreListing {
  stores: StoreView[];
  unavailable: string[];
}
