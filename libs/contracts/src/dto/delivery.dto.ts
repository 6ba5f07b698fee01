import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsUUID,
  Matches,
  Validate,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

import { IDEMPOTENCY_KEY } from './order.dto';

/**
 * The most agents one POST /agents may create by `count` (and MAX_AGENT_NAMES by `names`): measured,
 * like MAX_PACKETS_PER_REQUEST, to commit in well under 2 s (see docs/admin.md).
 */
export const MAX_AGENTS_PER_REQUEST = 50_000;
export const MAX_AGENT_NAMES = 1000;

/** The most agent reserves one order makes: far above what CONTENTION_WAIT_MS allows. */
const MAX_ATTEMPT = 1_000_000;

@ValidatorConstraint({ name: 'countOrNames' })
class CountOrNames implements ValidatorConstraintInterface {
  validate(_: unknown, args: ValidationArguments): boolean {
    return (args.object as CreateAgentsDto).count === undefined;
  }

  defaultMessage(): string {
    return 'give either count or names, not both';
  }
}

/** Either `count` anonymous agents or the named ones in `names`, not both. */
export class CreateAgentsDto {
  @ApiPropertyOptional({
    description: 'How many anonymous agents to create (not with names)',
    minimum: 1,
    maximum: MAX_AGENTS_PER_REQUEST,
    example: 10,
  })
  @ValidateIf((dto: CreateAgentsDto) => dto.names === undefined || dto.count !== undefined)
  @IsInt()
  @Min(1)
  @Max(MAX_AGENTS_PER_REQUEST)
  count?: number;

  @ApiPropertyOptional({
    type: [String],
    description: `Unique names of the agents to create (not with count); at most ${MAX_AGENT_NAMES}, each at most 100 characters`,
    example: ['Asha', 'Ravi'],
  })
  @IsOptional()
  @Validate(CountOrNames)
  @IsArray()
  @ArrayNotEmpty()
  @ArrayMaxSize(MAX_AGENT_NAMES)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  names?: string[];
}

/** gateway -> delivery: create the agents, once per Idempotency-Key (see AddPacketsDto). */
export class CreateAgentsCommand extends CreateAgentsDto {
  @Matches(IDEMPOTENCY_KEY)
  idempotencyKey: string;
}

/** Assign exactly the agent the coordinator logged at its commit decision, still reserved for this order. */
export class AssignAgentDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  agentId: number;
}

/**
 * Phase 1 at delivery: hold one free agent for the order. `attempt` counts the order's agent
 * reserves (1, 2, ...): the coordinator asks again after giving an agent back (YieldAgentDto).
 */
export class ReserveAgentDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  @Max(MAX_ATTEMPT)
  attempt: number;
}

/**
 * Gives back the agent that reserve `attempt` of the order holds, while the order waits for a
 * packet. Naming the attempt fences it: a late copy of this message, arriving after a later
 * attempt reserved an agent (maybe the same one), frees nothing.
 */
export class YieldAgentDto {
  @IsUUID()
  orderId: string;

  @IsInt()
  @Min(1)
  agentId: number;

  @IsInt()
  @Min(1)
  @Max(MAX_ATTEMPT)
  attempt: number;
}
