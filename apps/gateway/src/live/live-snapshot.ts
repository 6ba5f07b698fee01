import { AgentsView, FoodView, OrderOutcomes, RecentOrders } from '@app/contracts';
import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { FoodViewDoc, HoldCountsDoc, OrderViewDoc } from '../docs/schemas';

@ApiSchema({ name: 'OrderOutcomes' })
class OrderOutcomesDoc implements OrderOutcomes {
  @ApiProperty({ description: 'Length of the window, ms', example: 10_000 })
  windowMs: number;

  @ApiProperty({ description: 'Orders minted in the window that are PLACED, DELIVERING or DELIVERED now', example: 412 })
  placed: number;

  @ApiProperty({ description: 'Orders minted in the window that are NOT_PLACED now, or ABORTING on their way there', example: 3 })
  notPlaced: number;

  @ApiProperty({ description: 'Orders minted in the window whose outcome is not known yet (RESERVING, COMMITTING)', example: 5 })
  pending: number;
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

  @ApiProperty({ type: HoldCountsDoc, nullable: true, description: 'Agent counts; null while delivery cannot be reached' })
  agents: AgentsView['agents'] | null;

  @ApiProperty({
    type: OrderOutcomesDoc,
    nullable: true,
    description: 'Outcomes of the orders minted in the last windowMs; null while the order service cannot be reached',
  })
  outcomes: OrderOutcomes | null;

  @ApiProperty({ type: [OrderViewDoc], nullable: true, description: 'The latest orders, newest first, each with its log' })
  orders: RecentOrders['orders'] | null;

  @ApiProperty({ type: [String], description: 'The services that could not be read for this snapshot, and why', example: [] })
  errors: string[];
}
