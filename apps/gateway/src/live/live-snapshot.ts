import { AgentsView, FoodView, OrderOutcomes, RecentOrders } from '@app/contracts';
import { Type } from '@nestjs/common';
import { ApiProperty, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { FoodViewDoc, HoldCountsDoc, OrderViewDoc } from '../docs/schemas';

@ApiSchema({ name: 'OrderOutcomes' })
export class OrderOutcomesDoc implements OrderOutcomes {
  @ApiProperty({ type: 'integer', description: 'Length of the window, ms', example: 10_000 })
  windowMs: number;

  @ApiProperty({ type: 'integer', description: 'Orders minted in the window that are PLACED, DELIVERING or DELIVERED now', example: 412 })
  placed: number;

  @ApiProperty({
    type: 'integer',
    description: 'Orders minted in the window that are NOT_PLACED now, or ABORTING on their way there',
    example: 3,
  })
  notPlaced: number;

  @ApiProperty({
    type: 'integer',
    description: 'Orders minted in the window whose outcome is not known yet (RESERVING, COMMITTING)',
    example: 5,
  })
  pending: number;
}

/**
 * An object of that class, or null. Valid under strict OpenAPI 3.0: a $ref admits no null, and
 * `nullable` counts only beside a `type`.
 */
function nullable(type: Type) {
  return { oneOf: [{ $ref: getSchemaPath(type) }, { type: 'object', nullable: true, enum: [null] }] };
}

/** One event of GET /live/events: what the live page shows, read from the three services at once. */
export class LiveSnapshot {
  @ApiProperty({ description: 'When the gateway read it', example: '2026-11-22T08:00:00.000Z' })
  at: string;

  @ApiProperty({
    type: [FoodViewDoc],
    nullable: true,
    description: 'Every food with its packet counts; null while the store cannot be reached',
  })
  foods: FoodView[] | null;

  @ApiProperty({ ...nullable(HoldCountsDoc), description: 'Agent counts; null while delivery cannot be reached' })
  agents: AgentsView['agents'] | null;

  @ApiProperty({
    ...nullable(OrderOutcomesDoc),
    description: 'Outcomes of the orders minted in the last windowMs; null while the order service cannot be reached',
  })
  outcomes: OrderOutcomes | null;

  @ApiProperty({ type: [OrderViewDoc], nullable: true, description: 'The latest orders, newest first, each with its log' })
  orders: RecentOrders['orders'] | null;

  @ApiProperty({ type: [String], description: 'The services that could not be read for this snapshot, and why', example: [] })
  errors: string[];
}
