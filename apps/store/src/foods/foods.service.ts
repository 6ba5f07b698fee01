import { ContractException, ErrorCode, FoodView, HoldCounts, HoldState } from '@app/contracts';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { Packet } from '../packets/packet.entity';
import { Food } from './food.entity';

const INSERT_BATCH = 10_000;

@Injectable()
export class FoodsService {
  constructor(private readonly dataSource: DataSource) {}

  async create(name: string, packets: number): Promise<FoodView> {
    try {
      const id = await this.dataSource.transaction(async (manager) => {
        const { identifiers } = await manager.insert(Food, { name });
        const foodId = Number(identifiers[0].id);
        await this.insertPackets(manager, foodId, packets);
        return foodId;
      });
      return this.view(id);
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === 'ER_DUP_ENTRY') {
        throw new ContractException(ErrorCode.FOOD_EXISTS, `A food named "${name}" already exists`);
      }
      throw err;
    }
  }

  async addPackets(foodId: number, count: number): Promise<FoodView> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await manager.existsBy(Food, { id: foodId }))) throw new ContractException(ErrorCode.FOOD_NOT_FOUND, `Food ${foodId} does not exist`);
      await this.insertPackets(manager, foodId, count);
    });
    return this.view(foodId);
  }

  async list(): Promise<FoodView[]> {
    const foods = await this.dataSource.getRepository(Food).find({ order: { id: 'ASC' } });
    const counts = await this.counts();
    return foods.map((food) => ({ id: food.id, name: food.name, packets: counts.get(food.id) ?? emptyCounts() }));
  }

  private async view(foodId: number): Promise<FoodView> {
    const food = await this.dataSource.getRepository(Food).findOneByOrFail({ id: foodId });
    const counts = await this.counts(foodId);
    return { id: food.id, name: food.name, packets: counts.get(foodId) ?? emptyCounts() };
  }

  private async counts(foodId?: number): Promise<Map<number, HoldCounts>> {
    const query = this.dataSource
      .getRepository(Packet)
      .createQueryBuilder('p')
      .select('p.foodId', 'foodId')
      .addSelect('p.state', 'state')
      .addSelect('COUNT(*)', 'n')
      .groupBy('p.foodId')
      .addGroupBy('p.state');
    if (foodId !== undefined) query.where('p.foodId = :foodId', { foodId });
    const rows: { foodId: number; state: HoldState; n: string }[] = await query.getRawMany();
    const byFood = new Map<number, HoldCounts>();
    for (const row of rows) {
      const counts = byFood.get(Number(row.foodId)) ?? emptyCounts();
      const n = Number(row.n);
      counts[row.state.toLowerCase() as 'free' | 'reserved' | 'assigned'] += n;
      counts.total += n;
      byFood.set(Number(row.foodId), counts);
    }
    return byFood;
  }

  private async insertPackets(manager: EntityManager, foodId: number, count: number): Promise<void> {
    for (let left = count; left > 0; left -= INSERT_BATCH) {
      const rows = Math.min(left, INSERT_BATCH);
      await manager.query(`INSERT INTO packet (food_id) VALUES ${'(?),'.repeat(rows - 1)}(?)`, new Array(rows).fill(foodId));
    }
  }
}

function emptyCounts(): HoldCounts {
  return { free: 0, reserved: 0, assigned: 0, total: 0 };
}
