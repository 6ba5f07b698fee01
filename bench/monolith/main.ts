import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { MonolithModule } from './monolith.module';

/**
 * The benchmark's monolith (bench/run.ts starts it): POST /orders as the gateway takes it, served by
 * one NestJS app on Express over one MariaDB database, one transaction per order; no broker, no
 * coordinator. MONOLITH_PORT, MONOLITH_DB_NAME; DB_HOST, DB_PORT, DB_USER, DB_PASSWORD as the services.
 */
async function main(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(MonolithModule, { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  const port = Number(process.env.MONOLITH_PORT ?? 3990);
  await app.listen(port, '127.0.0.1');
  console.log(`monolith is listening on http://127.0.0.1:${port}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
