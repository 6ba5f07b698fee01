import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ServiceHealthIndicator } from './service-health.indicator';

@Module({
  // The answer names what is down; logging each failed probe too would only repeat it.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ServiceHealthIndicator],
})
export class HealthModule {}
