import {
  AgentAssignment,
  AgentReservation,
  AgentsCreated,
  AgentsView,
  ContractException,
  ErrorCode,
  HoldCounts,
  HoldState,
  ReleaseResult,
  closeBarrier,
  enterBarrier,
  transaction,
  withRetries,
} from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In, QueryFailedError } from 'typeorm';
import { DeliveryEnv } from '../config/delivery.env';
import { Agent } from './agent.entity';

const BARRIER = 'agent_barrier';
const INSERT_BATCH = 10_000;

/**
 * The delivery side of the two-phase commit. Every method is one READ COMMITTED transaction keyed
 * by order id and safe to repeat. READ COMMITTED because SKIP LOCKED under REPEATABLE READ takes gap
 * locks that deadlock concurrent reservations.
 */
@Injectable()
export class AgentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly env: DeliveryEnv,
  ) {}

  /** Phase 1: holds one free agent for the order until the reservation expires. */
  reserve(orderId: string): Promise<AgentReservation> {
    return transaction(this.dataSource, async (manager) => {
      const barrier = await enterBarrier(manager, BARRIER, orderId);
      if (barrier.released) {
        throw new ContractException(ErrorCode.ORDER_RELEASED, `Order ${orderId} was already released; not reserving`);
      }
      if (!barrier.firstVisit) {
        // A repeated reserve answers with what the first one took.
        const held = await manager.findOne(Agent, { where: { orderId } });
        if (held) return { orderId, agentId: held.id };
      }

      const agent = (await this.lockAvailable(manager, 'free')) ?? (await this.lockAvailable(manager, 'expired'));
      if (!agent) throw await this.refusal(manager);
      await manager
        .createQueryBuilder()
        .update(Agent)
        .set({ state: HoldState.RESERVED, orderId, reservedUntil: () => 'NOW(3) + INTERVAL :ttl MICROSECOND' })
        .setParameter('ttl', this.env.RESERVATION_TTL_MS * 1000)
        .where('id = :id', { id: agent.id })
        .execute();
      return { orderId, agentId: agent.id };
    });
  }

  /** Phase 2: refused only once the agent is no longer reserved for this order (swept or taken). */
  assign(orderId: string): Promise<AgentAssignment> {
    // Two autocommit statements instead of a transaction: the update alone decides, atomically.
    return withRetries(async () => {
      const result = await this.dataSource
        .createQueryBuilder()
        .update(Agent)
        .set({ state: HoldState.ASSIGNED, reservedUntil: null })
        .where('order_id = :orderId AND state = :reserved', { orderId, reserved: HoldState.RESERVED })
        .execute();
      const agent = await this.dataSource.getRepository(Agent).findOne({ where: { orderId }, select: { id: true, state: true } });
      if (agent && (result.affected === 1 || agent.state === HoldState.ASSIGNED)) return { orderId, agentId: agent.id };
      throw new ContractException(ErrorCode.RESERVATION_LOST, `No agent is reserved for order ${orderId} any more`);
    });
  }

  /** Abort: frees whatever agent this order holds, reserved or assigned, and bars later reserves of it. */
  release(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, async (manager) => {
      await closeBarrier(manager, BARRIER, orderId);
      return this.free(manager, orderId, [HoldState.RESERVED, HoldState.ASSIGNED]);
    });
  }

  /**
   * Gives back a reservation while the order waits for its packet. Unlike release it leaves the
   * barrier open, so the order may reserve again. The coordinator sends it only after the reserve
   * has answered, so no reserve of this order is in flight that it could race.
   */
  yield(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, (manager) => this.free(manager, orderId, [HoldState.RESERVED]));
  }

  /** The delivery is done: the agent assigned to this order is free for the next one. */
  complete(orderId: string): Promise<ReleaseResult> {
    return transaction(this.dataSource, (manager) => this.free(manager, orderId, [HoldState.ASSIGNED]));
  }

  /** Frees reservations past their expiry, a batch at a time; returns how many it freed. */
  async sweepExpired(batch = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.dataSource
        .createQueryBuilder()
        .update(Agent)
        .set({ state: HoldState.FREE, orderId: null, reservedUntil: null })
        .where('state = :state AND reserved_until < NOW(3)', { state: HoldState.RESERVED })
        .limit(batch)
        .execute();
      total += result.affected ?? 0;
      if ((result.affected ?? 0) < batch) return total;
    }
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

  private async free(manager: EntityManager, orderId: string, from: HoldState[]): Promise<ReleaseResult> {
    const result = await manager.update(
      Agent,
      { orderId, state: In(from) },
      { state: HoldState.FREE, orderId: null, reservedUntil: null },
    );
    return { orderId, freed: result.affected ?? 0 };
  }

  /** One available agent, locked; rows other transactions are locking are skipped, not waited for. */
  private lockAvailable(manager: EntityManager, kind: 'free' | 'expired'): Promise<Agent | null> {
    const query = manager.createQueryBuilder(Agent, 'a').select('a.id');
    if (kind === 'free') query.where('a.state = :state', { state: HoldState.FREE });
    else query.where('a.state = :state AND a.reservedUntil < NOW(3)', { state: HoldState.RESERVED });
    return query.limit(1).setLock('pessimistic_write').setOnLocked('skip_locked').getOne();
  }

  /** Agents still free or reserved (as committed) may come back: "ask again", not a refusal (I7). */
  private async refusal(manager: EntityManager): Promise<ContractException> {
    const mayComeBack = await manager.existsBy(Agent, { state: In([HoldState.FREE, HoldState.RESERVED]) });
    return mayComeBack
      ? new ContractException(ErrorCode.ALL_RESERVED, 'Every agent is held by orders still deciding')
      : new ContractException(ErrorCode.NO_AGENT, 'No delivery agent is free');
  }
}
