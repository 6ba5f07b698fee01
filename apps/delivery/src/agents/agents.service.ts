import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AgentsView,
  ContractException,
  ErrorCode,
  HoldCounts,
  HoldRows,
  HoldState,
  PeriodicTask,
  ReleaseResult,
  withRetries,
} from '@app/contracts';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource, QueryFailedError } from 'typeorm';
import { DeliveryEnv } from '../config/delivery.env';
import { Agent } from './agent.entity';

const INSERT_BATCH = 10_000;

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

  async assign(orderId: string): Promise<AgentAssignment> {
    return { orderId, agentId: await this.agents.assign(orderId) };
  }

  async release(orderId: string): Promise<ReleaseResult> {
    return { orderId, freed: await this.agents.release(orderId) };
  }

  /**
   * Gives back a reservation while the order waits for its packet. Unlike release it leaves the
   * barrier open, so the order may reserve again. The coordinator sends it only after the reserve
   * has answered, so no reserve of this order is in flight that it could race.
   */
  yield(orderId: string): Promise<ReleaseResult> {
    return this.freeFrom(orderId, HoldState.RESERVED);
  }

  /** The delivery is done: the agent assigned to this order is free for the next one. */
  complete(orderId: string): Promise<ReleaseResult> {
    return this.freeFrom(orderId, HoldState.ASSIGNED);
  }

  async create(count: number | undefined, names: string[] | undefined): Promise<AgentsCreated> {
    const rows = names ?? new Array<null>(count ?? 0).fill(null);
    try {
      await this.dataSource.transaction(async (manager) => {
        for (let start = 0; start < rows.length; start += INSERT_BATCH) {
          const batch = rows.slice(start, start + INSERT_BATCH);
          await manager.query(`INSERT INTO agent (name) VALUES ${'(?),'.repeat(batch.length - 1)}(?)`, batch);
        }
      });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === 'ER_DUP_ENTRY') {
        throw new ContractException(ErrorCode.AGENT_EXISTS, 'An agent with one of these names already exists');
      }
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
    const agents: HoldCounts = { free: 0, reserved: 0, assigned: 0, total: 0 };
    for (const row of rows) {
      agents[row.state.toLowerCase() as 'free' | 'reserved' | 'assigned'] += Number(row.n);
      agents.total += Number(row.n);
    }
    return { agents };
  }

  private async freeFrom(orderId: string, state: HoldState): Promise<ReleaseResult> {
    // One statement on the unique order_id: atomic on its own.
    const freed = await withRetries(() => this.agents.free(this.dataSource.manager, orderId, [state]));
    return { orderId, freed };
  }

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }
}
