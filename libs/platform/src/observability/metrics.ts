import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, collectDefaultMetrics, register } from 'prom-client';

/** Process metrics (CPU, memory, event-loop lag, GC) labelled with the app's name; once per process. */
export function collectProcessMetrics(app: string): void {
  if (register.getSingleMetric('process_cpu_seconds_total')) return;
  register.setDefaultLabels({ app });
  collectDefaultMetrics();
}

/** GET /metrics in the Prometheus text format: every metric this process registered. */
@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  @Get()
  @ApiOperation({ summary: 'Prometheus metrics of this app (text exposition format)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Every metric this process registered',
    schema: { type: 'string', example: 'orders_total{outcome="PLACED",reason="",app="order"} 1' },
  })
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}

const httpRequests = new Counter({
  name: 'http_requests_total',
  help: 'HTTP requests answered, by method, route and status',
  labelNames: ['method', 'route', 'status'] as const,
});

const httpRequestSeconds = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15],
});

/** Express middleware: counts and times every answer, by route pattern (not raw URL, so ids do not explode the labels). */
export function httpMetricsMiddleware(req: Request, res: Response, next: NextFunction): void {
  const stop = httpRequestSeconds.startTimer();
  res.once('finish', () => {
    const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
    stop({ method: req.method, route });
    httpRequests.inc({ method: req.method, route, status: res.statusCode });
  });
  next();
}
