import { Module } from '@nestjs/common';
import { StoresModule } from '../stores/stores.module';
import { FoodsController } from './foods.controller';
import { FoodsService } from './foods.service';

@Module({ imports: [StoresModule], controllers: [FoodsController], providers: [FoodsService] })
export class FoodsModule {}
