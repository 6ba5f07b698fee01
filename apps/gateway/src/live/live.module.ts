import { Module } from '@nestjs/common';
import { LivePage } from './live-page';
import { LiveController } from './live.controller';
import { LiveService } from './live.service';

@Module({ controllers: [LiveController], providers: [LiveService, LivePage] })
export class LiveModule {}
