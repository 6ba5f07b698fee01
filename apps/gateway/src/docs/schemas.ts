import {
  AgentsCreated,
  AgentsView,
  FoodView,
  HoldCounts,
  NotPlacedReason,
  OrderLine,
  OrderLogEntry,
  OrderState,
  OrderView,
  Shortage,
  StoreAgents,
  StoreStock,
  StoreView,
} from '@app/contracts';
import { ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import { HTTP_STATUS } from '../errors/http-status';

/*
 * The HTTP reply bodies as OpenAPI schemas. Each class implements the contract type it describes,
 * so a change to the contract that the docs do not follow fails the build.
 */

@ApiSchema({ name: 'HoldCounts' })
export class HoldCountsDoc implements HoldCounts {
  @ApiProperty({ type: 'integer', example: 18 })
  free: number;

  @ApiProperty({ type: 'integer', description: 'Held by orders still deciding (phase one)', example: 1 })
  reserved: number;

  @ApiProperty({ type: 'integer', description: 'Taken by placed orders', example: 1 })
  assigned: number;

  @ApiProperty({ type: 'integer', example: 20 })
  total: number;
}

@ApiSchema({ name: 'FoodView' })
export class FoodViewDoc implements FoodView {
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;

  @ApiProperty({ example: 'Masala Dosa' })
  name: string;

  @ApiProperty({ type: HoldCountsDoc })
  packets: HoldCounts;
}

@ApiSchema({ name: 'AgentsView' })
export class AgentsViewDoc implements AgentsView {
  @ApiProperty({ type: HoldCountsDoc })
  agents: HoldCounts;
}

@ApiSchema({ name: 'StoreAgents' })
export class StoreAgentsDoc extends AgentsViewDoc implements StoreAgents {
  @ApiProperty({ type: 'integer', description: 'The dark store the agents work from', example: 1 })
  storeId: number;
}

@ApiSchema({ name: 'AgentsCreated' })
export class AgentsCreatedDoc extends StoreAgentsDoc implements AgentsCreated {
  @ApiProperty({ type: 'integer', example: 10 })
  created: number;
}

@ApiSchema({ name: 'StoreCreated' })
export class StoreCreatedDoc {
  @ApiProperty({ type: 'integer', example: 2 })
  id: number;

  @ApiProperty({ example: 'Koramangala' })
  name: string;
}

@ApiSchema({ name: 'StoreStock' })
export class StoreStockDoc extends StoreCreatedDoc implements StoreStock {
  @ApiProperty({ type: [FoodViewDoc], description: 'Each food the store has had packets of, with its packets' })
  foods: FoodView[];
}

@ApiSchema({ name: 'StoreView' })
export class StoreViewDoc extends StoreStockDoc implements StoreView {
  @ApiProperty({ type: HoldCountsDoc, description: 'The agents working from the store' })
  agents: HoldCounts;
}

@ApiSchema({ name: 'NewStore' })
export class NewStoreDoc extends StoreCreatedDoc {
  @ApiPropertyOptional({ description: 'With PARTITION_MAP only: the partition that holds the store', example: 'south' })
  partition?: string;
}

@ApiSchema({ name: 'StoreListing' })
export class StoreListingDoc {
  @ApiProperty({ type: [StoreViewDoc], description: 'The stores of every partition that answered, by id' })
  stores: StoreView[];

  @ApiProperty({ type: [String], description: 'The partitions that did not answer: their stores are missing from `stores`', example: [] })
  unavailable: string[];
}

@ApiSchema({ name: 'OrderLine' })
export class OrderLineDoc implements OrderLine {
  @ApiProperty({ type: 'integer', example: 1 })
  foodId: number;

  @ApiProperty({ type: 'integer', description: 'Packets of the food the cart asked for', example: 2 })
  quantity: number;

  @ApiProperty({
    type: 'array',
    items: { type: 'integer' },
    description: 'The packets the order holds (empty until it is decided to commit, and once not placed)',
    example: [7, 8],
  })
  packetIds: number[];

  @ApiPropertyOptional({
    type: 'integer',
    description: 'For an order refused OUT_OF_STOCK: how many packets of the food were missing',
    example: 1,
  })
  missing?: number;
}

@ApiSchema({ name: 'OrderLogEntry' })
export class OrderLogEntryDoc implements OrderLogEntry {
  @ApiProperty({ enum: OrderState, enumName: 'OrderState', example: OrderState.COMMITTING })
  state: OrderState;

  @ApiProperty({ type: String, nullable: true, description: 'The not-placed reason, for NOT_PLACED and ABORTING', example: null })
  detail: string | null;

  @ApiProperty({ description: 'When the order entered this state', example: '2026-11-22T08:00:00.012Z' })
  at: string;
}

@ApiSchema({ name: 'OrderView' })
export class OrderViewDoc implements OrderView {
  @ApiProperty({ format: 'uuid', description: 'UUIDv7, minted by the gateway', example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d' })
  orderId: string;

  @ApiProperty({
    type: 'integer',
    nullable: true,
    description: 'The dark store of the order; null only for an order whose request never arrived (REQUEST_LOST)',
    example: 1,
  })
  storeId: number | null;

  @ApiProperty({ type: [OrderLineDoc], description: 'The cart: each food, how many, and the packets held' })
  items: OrderLine[];

  @ApiProperty({ enum: OrderState, enumName: 'OrderState', example: OrderState.PLACED })
  state: OrderState;

  // Inline, not a $ref: under OpenAPI 3.0 `nullable` needs a `type` beside it, and null must be in the enum.
  @ApiProperty({
    type: 'string',
    enum: [...Object.values(NotPlacedReason), null],
    nullable: true,
    description: 'Why the order was not placed, for NOT_PLACED and ABORTING',
    example: null,
  })
  reason: NotPlacedReason | null;

  @ApiProperty({ type: 'integer', nullable: true, description: 'The agent assigned, once decided to commit', example: 3 })
  agentId: number | null;

  @ApiPropertyOptional({ type: 'integer', description: 'For an order of one packet (the single-food form): its food', example: 1 })
  foodId?: number;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    description: 'For an order of one packet: its packet, once decided to commit',
    example: 7,
  })
  packetId?: number | null;

  @ApiProperty({ example: '2026-11-22T08:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-22T08:00:00.020Z' })
  updatedAt: string;

  @ApiPropertyOptional({
    type: [OrderLogEntryDoc],
    description: 'Every state the order entered, oldest first',
    example: [
      { state: 'RESERVING', detail: null, at: '2026-11-22T08:00:00.000Z' },
      { state: 'COMMITTING', detail: null, at: '2026-11-22T08:00:00.012Z' },
      { state: 'PLACED', detail: null, at: '2026-11-22T08:00:00.020Z' },
    ],
  })
  log?: OrderLogEntry[];
}

@ApiSchema({ name: 'PlacedOrder' })
export class PlacedOrderDoc {
  @ApiProperty({ format: 'uuid', example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d' })
  orderId: string;

  @ApiProperty({ enum: ['PLACED'], example: 'PLACED' })
  state: 'PLACED';

  @ApiProperty({ example: 'Order Placed' })
  message: string;

  @ApiProperty({ type: 'integer', description: 'The dark store serving the order', example: 1 })
  storeId: number;

  @ApiProperty({ type: [OrderLineDoc], description: 'The cart, with the packets assigned to each line' })
  items: OrderLine[];

  @ApiProperty({ type: 'integer', description: 'The delivery agent assigned to the order', example: 3 })
  agentId: number;

  @ApiPropertyOptional({ type: 'integer', description: 'For an order of one packet (the single-food form): its food', example: 1 })
  foodId?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'For an order of one packet: the packet assigned to it', example: 7 })
  packetId?: number;
}

@ApiSchema({ name: 'PendingOrder' })
export class PendingOrderDoc {
  @ApiPropertyOptional({
    format: 'uuid',
    example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d',
    description: 'The order to look up; absent when a keyed request could not learn which order its key made (retry with the key)',
  })
  orderId?: string;

  @ApiPropertyOptional({ example: 'checkout-7f3a', description: 'Instead of orderId, for a keyed request: the key to send again' })
  idempotencyKey?: string;

  @ApiProperty({ enum: ['PENDING'], example: 'PENDING' })
  state: 'PENDING';

  @ApiProperty({ example: 'Outcome not known yet; GET /orders/019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d shows it once settled' })
  message: string;
}

/** GET /orders/:id of an order whose request has not reached the order service yet. */
@ApiSchema({ name: 'PendingLookUp' })
export class PendingLookUpDoc {
  @ApiProperty({ format: 'uuid', example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d', description: 'The order looked up' })
  orderId: string;

  @ApiProperty({ enum: ['PENDING'], example: 'PENDING' })
  state: 'PENDING';

  @ApiProperty({ example: 'Not started yet; GET /orders/019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d shows it once settled' })
  message: string;
}

@ApiSchema({ name: 'Health' })
export class HealthDoc {
  @ApiProperty({ enum: ['ok'], example: 'ok' })
  status: 'ok';

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] } } },
    description: 'One entry per service (answers over RabbitMQ) and per service database (terminus format)',
    example: { order: { status: 'up' }, order_database: { status: 'up' }, store: { status: 'up' }, store_database: { status: 'up' } },
  })
  info: Record<string, { status: string }>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'object' }, example: {} })
  error: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'object' }, description: 'info and error together' })
  details: Record<string, unknown>;
}

@ApiSchema({ name: 'Shortage' })
export class ShortageDoc implements Shortage {
  @ApiProperty({ type: 'integer', example: 2 })
  foodId: number;

  @ApiProperty({
    type: 'integer',
    description: 'Packets of the food the store is short of, free or held by orders still deciding',
    example: 1,
  })
  missing: number;
}

/** Every error answer of the gateway; `code` is one of the keys of HTTP_STATUS, which also gives the status. */
@ApiSchema({ name: 'Error' })
export class ApiErrorBody {
  @ApiProperty({
    enum: Object.keys(HTTP_STATUS),
    enumName: 'ErrorCode',
    description: 'Stable code; the HTTP status follows from it',
    example: 'OUT_OF_STOCK',
  })
  code: string;

  @ApiProperty({ example: 'Order Not Placed: no packet of this food is left' })
  message: string;

  @ApiPropertyOptional({
    type: 'array',
    items: { oneOf: [{ type: 'string' }, { $ref: getSchemaPath(ShortageDoc) }] },
    description: 'For VALIDATION_FAILED, each offending field; for OUT_OF_STOCK, each food of the cart short, and by how many packets',
    example: ['foodId must be an integer number'],
  })
  details?: string[] | Shortage[];

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'The order, for an order that was not placed',
    example: '019aa9e0-5c1e-7a2b-9c3d-4e5f6a7b8c9d',
  })
  orderId?: string;

  @ApiPropertyOptional({ enum: ['NOT_PLACED'], description: 'For an order that was not placed', example: 'NOT_PLACED' })
  state?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'For /health: each service, up or why it is down',
  })
  services?: Record<string, string>;
}
