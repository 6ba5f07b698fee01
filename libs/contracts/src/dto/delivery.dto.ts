import { ExactlyOneOf, IntField, StringArrayField, UuidField } from './fields';
import { IdempotencyKeyField, MAX_ID, OrderIdField, StoreIdField } from './ids';

/**
 * The most agents one POST /agents may create by `count` (and MAX_AGENT_NAMES by `names`): measured,
 * like MAX_PACKETS_PER_REQUEST, to commit in well under 2 s (see docs/admin.md).
 */
export const MAX_AGENTS_PER_REQUEST = 50_000;
export const MAX_AGENT_NAMES = 1000;

/** The most agent reserves one order makes: far above what CONTENTION_WAIT_MS allows. */
const MAX_ATTEMPT = 1_000_000;

/** Either `count` anonymous agents or the named ones in `names`, not both. */
@ExactlyOneOf('count', 'names')
export class CreateAgentsDto {
  @IntField({
    optional: true,
    min: 1,
    max: MAX_AGENTS_PER_REQUEST,
    description: 'How many anonymous agents to create (not with names)',
    example: 10,
  })
  count?: number;

  @StringArrayField({
    optional: true,
    maxItems: MAX_AGENT_NAMES,
    unique: true,
    maxLength: 100,
    description: 'Unique names of the agents to create (not with count)',
    example: ['Asha', 'Ravi'],
  })
  names?: string[];
}

/** gateway -> delivery: create the agents of a dark store, once per Idempotency-Key (see AddPacketsDto). */
export class CreateAgentsCommand extends CreateAgentsDto {
  @StoreIdField()
  storeId: number;

  @IdempotencyKeyField()
  idempotencyKey: string;
}

/** gateway -> delivery: agent counts of every dark store, or of `storeId` only. */
export class ListAgentsDto {
  @IntField({ optional: true, min: 1, max: MAX_ID, description: 'Only this dark store' })
  storeId?: number;
}

/** Assign exactly the agent the coordinator logged at its commit decision, still reserved for this order. */
export class AssignAgentDto {
  @UuidField()
  orderId: string;

  @IntField({ min: 1, max: Number.MAX_SAFE_INTEGER })
  agentId: number;
}

/**
 * Phase 1 at delivery: hold one free agent of the order's dark store. `attempt` counts the order's agent
 * reserves (1, 2, ...): the coordinator asks again after giving an agent back (YieldAgentDto).
 */
export class ReserveAgentDto {
  @OrderIdField()
  orderId: string;

  /** The order's dark store: only its agents serve the order (I8). */
  @StoreIdField()
  storeId: number;

  @IntField({ min: 1, max: MAX_ATTEMPT })
  attempt: number;
}

/**
 * Gives back the agent that reserve `attempt` of the order holds, while the order waits for a
 * packet. Naming the attempt fences it: a late copy of this message, arriving after a later
 * attempt reserved an agent (maybe the same one), frees nothing.
 */
export class YieldAgentDto {
  @UuidField()
  orderId: string;

  @IntField({ min: 1, max: Number.MAX_SAFE_INTEGER })
  agentId: number;

  @IntField({ min: 1, max: MAX_ATTEMPT })
  attempt: number;
}
