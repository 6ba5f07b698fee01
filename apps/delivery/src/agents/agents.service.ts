import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AgentsView,
  ErrorCode,
  HoldState,
  ReleaseResult,
  tallyHoldCounts,
} from '@app/contracts';
import { ContractException, PeriodicTask } from '@app/platform';
import { insertRows, isDuplicateKey } from '@app/database';
import { HoldRows } from '@app/participant';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeliveryEnv } from '../config/delivery.env';
import { Agent } from './agent.entity';

/** The delivery side of the two-phase commit: agents held, assigned and given back per order. */
@Injectable()
export class AgentsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly agents: HoldRows<Agent>;
  private readonly sweeper: PeriodicTask;

  constructor(
    private readonly dataSource: DataSource,
    env: DeliveryEnv,
  ) {
    this.agents = new HoldRows(dataSource, Agent, { barrier: 'agent_barrier', noun: 'agent', ttlMs: env.RESERVATION_TTL_MS });
    this.sweeper = this.agents.sweeper(env.SWEEP_INTERVAL_MS);
  }

  /** Phase 1: holds one free agent for the order until the reservation expires. */
  async reserve(orderId: string): Promise<AgentReservation> {
    const agentId = await this.agents.reserve(orderId, {}, (manager) =>
      this.agents.refusal(manager, {}, new ContractException(ErrorCode.NO_AGENT, 'No delivery agent is free')),
    );
    return { orderId, agentId };
  }

  async assign(orderId: string, agentId: number): Promise<AgentAssignment> {
    return { orderId, agentId: await this.agents.assign(orderId, agentId) };
  }

  async release(orderId: string): Promise<ReleaseResult> {
    return { orderId, freed: await this.agents.release(orderId) };
  }

  async yield(orderId: string): Promise<ReleaseResult> {
    return { orderId, freed: await this.agents.yield(orderId) };
  }

  async complete(orderId: string): Promise<ReleaseResult> {
    return { orderId, freed: await this.agents.complete(orderId) };
  }

  async create(count: number | undefined, names: string[] | undefined): Promise<AgentsCreated> {
    const rows = names ?? new Array<null>(count ?? 0).fill(null);
    try {
      await this.dataSource.transaction((manager) => insertRows(manager, 'agent', 'name', rows));
    } catch (err) {
      if (isDuplicateKey(err)) throw new ContractException(ErrorCode.AGENT_EXISTS, 'An agent with one of these names already exists');
      throw err;
    }
    return { created: rows.length, ...(await this.view()) };
  }

  async view(): Promise<AgentsView> {
    const rows: { state: HoldState; n: string }[] = await this.dataSource
      .getRepository(Agent)
      .createQueryBuilder('a')
      .select('a.state', 'state')
      .addSelect('COUNT(*)', 'n')
      .groupBy('a.state')
      .getRawMany();
    return { agents: tallyHoldCounts(rows) };
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }
}
