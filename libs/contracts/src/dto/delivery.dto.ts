import { ExactlyOneOf, IntField, StringArrayField, UuidField } from './fields';

export const MAX_AGENTS_PER_REQUEST = 100_000;

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
    maxItems: 1000,
    unique: true,
    maxLength: 100,
    description: 'Unique names of the agents to create (not with count)',
    example: ['Asha', 'Ravi'],
  })
  names?: string[];
}

/** Assign exactly the agent the coordinator logged at its commit decision, still reserved for this order. */
export class AssignAgentDto {
  @UuidField()
  orderId: string;

  @IntField({ min: 1, max: Number.MAX_SAFE_INTEGER })
  agentId: number;
}
