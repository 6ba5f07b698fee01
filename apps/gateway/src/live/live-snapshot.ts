import { OrderOutcomes, OrderView, StoreAgents, StoreOutcomes, StoreStock } from '@app/contracts';
import { Type } from '@nestjs/common';
import { ApiProperty, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { OrderViewDoc, StoreAgentsDoc, StoreStockDoc } from '../docs/schemas';

@ApiSchema({ name: 'StoreOutcomes' })
export class StoreOutcomesDoc implements StoreOutcomes {
  @ApiProperty({ type: 'integer', example: 2 })
  storeId: number;

  @ApiProperty({
    type: 'integer',
    description: 'Orders of the store minted in the window that are PLACED, DELIVERING or DELIVERED now',
    example: 204,
  })
  placed: number;

  @ApiProperty({ type: 'integer', description: 'Orders of the store minted in the window that are NOT_PLACED or ABORTING now', example: 1 })
  notPlaced: number;

  @ApiProperty({ type: 'integer', description: 'Orders of the store minted in the window whose outcome is not known yet', example: 2 })
  pending: number;
}

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

  @ApiProperty({
    type: [StoreOutcomesDoc],
    description:
      'The same counts for each dark store with orders in the window, by store id; an order whose request never arrived (REQUEST_LOST) has no store and counts in the totals only',
  })
  stores: StoreOutcomes[];
}

/**
 * An object of that class, or null. Valid under strict OpenAPI 3.0: a $ref admits no null, and
 * `nullable` counts only beside a `type`.
 */
function nullable(type: Type) {
  return { oneOf: [{ $ref: getSchemaPath(type) }, { type: 'object', nullable: true, enum: [null] }] };
}

/**
 * One event of GET /live/events: what the live page shows, read from the three services at once.
 * Each service's part stays apart (the page joins them by store id), so a service that cannot be
 * reached blanks its part only: the page keeps showing the last one it had.
 */
export class LiveSnapshot {
  @ApiProperty({ description: 'When the gateway read it', example: '2026-11-22T08:00:00.000Z' })
  at: string;

  @ApiProperty({
    type: [StoreStockDoc],
    nullable: true,
    description: 'Every dark store with, per food, its packet counts (as in GET /stores); null while the store service cannot be reached',
  })
  stores: StoreStock[] | null;

  @ApiProperty({
    type: [StoreAgentsDoc],
    nullable: true,
    description: 'Agent counts of each dark store that has agents; null while delivery cannot be reached',
  })
  agents: StoreAgents[] | null;

  @ApiProperty({
    ...nullable(OrderOutcomesDoc),
    description: 'Outcomes of the orders minted in the last windowMs, in all and per store; null while the order service cannot be reached',
  })
  outcomes: OrderOutcomes | null;

  @ApiProperty({ type: [OrderViewDoc], nullable: true, description: 'The latest orders of every store, newest first, each with its log' })
  orders: OrderView[] | null;

  @ApiProperty({ type: [String], description: 'The services that could not be read for this snapshot, and why', example: [] })
  errors: string[];

  @ApiProperty({
    type: [String],
    description: 'The partitions (see PARTITION_MAP; `default` without one) with a service that could not be read: their part is missing',
    example: [],
  })
  unavailable: string[];
}
