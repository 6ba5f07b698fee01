import { CartLine, ErrorCode, orderIdMintedAt } from '@app/contracts';
import { RpcCallError } from '@app/platform';

interface Row {
  id: number;
  /** A packet's food (agents have none). */
  foodId: number;
  state: 'FREE' | 'RESERVED' | 'ASSIGNED';
  orderId: string | null;
  attempt: number | null;
}

/** A promise a test opens when it wants: holds one call of a participant until then. */
export class Gate {
  private letThrough!: () => void;
  private arrive!: () => void;
  private readonly opened = new Promise<void>((resolve) => (this.letThrough = resolve));
  /** Resolves once a call is waiting at the gate. */
  readonly reached = new Promise<void>((resolve) => (this.arrive = resolve));

  async pass(): Promise<void> {
    this.arrive();
    await this.opened;
  }

  open(): void {
    this.letThrough();
  }
}

/**
 * The store and delivery of one dark store in memory, answering what the real ones answer
 * (packets.service.ts, agents.service.ts): a cart reserve holds every packet of the cart or none,
 * or answers what the order holds already; ALL_RESERVED while missing rows are held by orders
 * still deciding, OUT_OF_STOCK (naming each food short) / NO_AGENT when none may come back; assign
 * only the named rows still reserved for the order, else RESERVATION_LOST; a yield frees the named
 * agent only while the named attempt holds it; release bars later reserves; a reserve of an order
 * older than `retentionMs` is refused (ORDER_TOO_OLD). Packets are of food 7 unless `foodOf` says
 * otherwise. `gates` hold the next call of a method until the test opens them.
 */
export class MemoryParticipants {
  readonly packets: Row[];
  readonly agents: Row[];
  private readonly released = new Set<string>();
  readonly gates = new Map<string, Gate[]>();
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** What another order does the moment a yield has run (takes the agent it freed, say). */
  afterYield?: () => void;

  constructor(
    packets: number,
    agents: number,
    private readonly retentionMs = 7 * 86_400_000,
    foodOf: (packet: number) => number = () => 7,
  ) {
    const rows = (n: number, food: (i: number) => number) =>
      Array.from({ length: n }, (_, i): Row => ({ id: i + 1, foodId: food(i + 1), state: 'FREE', orderId: null, attempt: null }));
    this.packets = rows(packets, foodOf);
    this.agents = rows(agents, () => 0);
  }

  /** Holds the next call of `method` at a gate the test opens. */
  gate(method: string): Gate {
    const gate = new Gate();
    this.gates.set(method, [...(this.gates.get(method) ?? []), gate]);
    return gate;
  }

  async reserveCart(orderId: string, cart: { storeId: number; items: CartLine[] }) {
    await this.enter('reserveCart', orderId, cart);
    this.refuseReleased(orderId);
    const held = this.packets.filter((r) => r.orderId === orderId);
    const lines = (rows: Row[]) =>
      cart.items.map((line) => ({ ...line, packetIds: rows.filter((r) => r.foodId === line.foodId).map((r) => r.id) }));
    if (held.length > 0) return { orderId, items: lines(held) };
    const taken = cart.items.map((line) =>
      this.packets.filter((r) => r.state === 'FREE' && r.foodId === line.foodId).slice(0, line.quantity),
    );
    const short = cart.items.filter((line, i) => taken[i].length < line.quantity);
    if (short.length === 0) {
      for (const row of taken.flat()) Object.assign(row, { state: 'RESERVED', orderId, attempt: 1 });
      return { orderId, items: lines(taken.flat()) };
    }
    const outOfStock = cart.items
      .map((line) => ({
        foodId: line.foodId,
        missing: line.quantity - this.packets.filter((r) => r.foodId === line.foodId && r.state !== 'ASSIGNED').length,
      }))
      .filter((shortage) => shortage.missing > 0);
    if (outOfStock.length > 0) throw new RpcCallError(ErrorCode.OUT_OF_STOCK, 'out of stock', outOfStock);
    const missingNow = short.map((line) => ({ foodId: line.foodId, missing: line.quantity - taken[cart.items.indexOf(line)].length }));
    throw new RpcCallError(ErrorCode.ALL_RESERVED, 'held by orders still deciding', missingNow);
  }

  async reserveAgent(orderId: string, _storeId: number, attempt: number) {
    await this.enter('reserveAgent', orderId, attempt);
    this.refuseReleased(orderId);
    return { orderId, agentId: this.reserve(this.agents, orderId, attempt, ErrorCode.NO_AGENT) };
  }

  async yieldAgent(orderId: string, agentId: number, attempt: number) {
    await this.enter('yieldAgent', orderId, agentId, attempt);
    const row = this.agents.find((r) => r.id === agentId && r.orderId === orderId && r.state === 'RESERVED' && r.attempt === attempt);
    if (row) Object.assign(row, { state: 'FREE', orderId: null, attempt: null });
    this.afterYield?.();
    return { orderId, freed: row ? 1 : 0 };
  }

  async assignPackets(orderId: string, packetIds: number[]) {
    await this.enter('assignPackets', orderId, packetIds);
    const rows = packetIds.map((id) => this.packets.find((r) => r.id === id && r.orderId === orderId));
    if (rows.some((row) => !row || row.state === 'FREE')) throw new RpcCallError(ErrorCode.RESERVATION_LOST, `packets of ${orderId} lost`);
    for (const row of rows) row!.state = 'ASSIGNED';
    return { orderId, packetIds };
  }

  async assignAgent(orderId: string, agentId: number) {
    await this.enter('assignAgent', orderId, agentId);
    return { orderId, agentId: assign(this.agents, orderId, agentId) };
  }

  async releasePackets(orderId: string) {
    await this.enter('releasePackets', orderId);
    return { orderId, freed: this.release(this.packets, orderId, ['RESERVED', 'ASSIGNED']) };
  }

  async releaseAgent(orderId: string) {
    await this.enter('releaseAgent', orderId);
    return { orderId, freed: this.release(this.agents, orderId, ['RESERVED', 'ASSIGNED']) };
  }

  async completeDelivery(orderId: string) {
    await this.enter('completeDelivery', orderId);
    return { orderId, freed: this.release(this.agents, orderId, ['ASSIGNED']) };
  }

  onApplicationBootstrap(): void {}

  /** What another order does meanwhile: holds row `id` reserved, as its own reserve would. */
  holdFor(rows: Row[], id: number, orderId: string): void {
    Object.assign(
      rows.find((r) => r.id === id)!,
      { state: 'RESERVED', orderId, attempt: 1 },
    );
  }

  free(rows: Row[], id: number): void {
    Object.assign(
      rows.find((r) => r.id === id)!,
      { state: 'FREE', orderId: null, attempt: null },
    );
  }

  private async enter(method: string, ...args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    const gate = this.gates.get(method)?.shift();
    if (gate) await gate.pass();
  }

  /** What a reserve of any side refuses first: an order past RETENTION_MS, or one released already. */
  private refuseReleased(orderId: string): void {
    if ((orderIdMintedAt(orderId) ?? 0) < Date.now() - this.retentionMs) {
      throw new RpcCallError(ErrorCode.ORDER_TOO_OLD, `order ${orderId} is older than RETENTION_MS`);
    }
    if (this.released.has(orderId)) throw new RpcCallError(ErrorCode.ORDER_RELEASED, `order ${orderId} was released`);
  }

  private reserve(rows: Row[], orderId: string, attempt: number, none: ErrorCode): number {
    const held = rows.find((r) => r.orderId === orderId);
    if (held) {
      if (held.state === 'RESERVED') held.attempt = Math.max(held.attempt ?? 0, attempt);
      return held.id;
    }
    const free = rows.find((r) => r.state === 'FREE');
    if (free) {
      Object.assign(free, { state: 'RESERVED', orderId, attempt });
      return free.id;
    }
    if (rows.some((r) => r.state === 'RESERVED')) throw new RpcCallError(ErrorCode.ALL_RESERVED, 'all held by orders still deciding');
    throw new RpcCallError(none, 'none left');
  }

  private release(rows: Row[], orderId: string, states: Row['state'][]): number {
    this.released.add(orderId);
    const held = rows.filter((r) => r.orderId === orderId && states.includes(r.state));
    for (const row of held) Object.assign(row, { state: 'FREE', orderId: null, attempt: null });
    return held.length;
  }
}

function assign(rows: Row[], orderId: string, id: number): number {
  const row = rows.find((r) => r.id === id && r.orderId === orderId);
  if (row?.state === 'RESERVED') row.state = 'ASSIGNED';
  if (row?.state !== 'ASSIGNED') throw new RpcCallError(ErrorCode.RESERVATION_LOST, `row ${id} is no longer reserved for ${orderId}`);
  return id;
}
