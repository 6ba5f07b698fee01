import { ErrorCode, FoodView, HoldCounts, HoldState, tallyHoldCounts } from '@app/contracts';
import { ContractException } from '@app/platform';
import { insertRows, isDuplicateKey } from '@app/database';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Packet } from '../packets/packet.entity';
import { Food } from './food.entity';

@Injectable()
export class FoodsService {
  constructor(private readonly dataSource: DataSource) {}

  async create(name: string, packets: number): Promise<FoodView> {
    try {
      const id = await this.dataSource.transaction(async (manager) => {
        const { identifiers } = await manager.insert(Food, { name });
        const foodId = Number(identifiers[0].id);
        await insertRows(manager, 'packet', 'food_id', new Array(packets).fill(foodId));
        return foodId;
      });
      return await this.view(id);
    } catch (err) {
      if (isDuplicateKey(err)) throw new ContractException(ErrorCode.FOOD_EXISTS, `A food named "${name}" already exists`);
      throw err;
    }
  }

  async addPackets(foodId: number, count: number): Promise<FoodView> {
    await this.dataSource.transaction(async (manager) => {
      if (!(await manager.existsBy(Food, { id: foodId })))
        throw new ContractException(ErrorCode.FOOD_NOT_FOUND, `Food ${foodId} does not exist`);
      await insertRows(manager, 'packet', 'food_id', new Array(count).fill(foodId));
    });
    return this.view(foodId);
  }

  async list(): Promise<FoodView[]> {
    const foods = await this.dataSource.getRepository(Food).find({ order: { id: 'ASC' } });
    const counts = await this.counts();
    return foods.map((food) => ({ id: food.id, name: food.name, packets: counts.get(food.id) ?? tallyHoldCounts([]) }));
  }

  private async view(foodId: number): Promise<FoodView> {
    const food = await this.dataSource.getRepository(Food).findOneByOrFail({ id: foodId });
    const counts = await this.counts(foodId);
    return { id: food.id, name: food.name, packets: counts.get(foodId) ?? tallyHoldCounts([]) };
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
    const foodIds = new Set(rows.map((row) => Number(row.foodId)));
    return new Map([...foodIds].map((id) => [id, tallyHoldCounts(rows.filter((row) => Number(row.foodId) === id))]));
  }
}
