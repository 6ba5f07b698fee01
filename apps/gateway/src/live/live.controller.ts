import { Controller, Get, Header, MessageEvent, Sse } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Observable, map } from 'rxjs';
import { LIVE_PAGE } from './live-page';
import { LiveSnapshot, OrderOutcomesDoc } from './live-snapshot';
import { LiveService } from './live.service';

@ApiTags('live')
@ApiExtraModels(LiveSnapshot, OrderOutcomesDoc)
@Controller()
export class LiveController {
  constructor(private readonly live: LiveService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({ summary: 'The live page: stock, agents, orders per second and the latest orders, updated every second' })
  @ApiProduces('text/html')
  @ApiOkResponse({
    description: 'A self-contained HTML page that reads GET /live/events',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  page(): string {
    return LIVE_PAGE;
  }

  @Sse('live/events')
  @ApiOperation({ summary: 'Server-sent events: one LiveSnapshot (JSON) about every second while the connection is open' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'An event stream; the `data` of each event is a LiveSnapshot',
    content: { 'text/event-stream': { schema: { $ref: getSchemaPath(LiveSnapshot) } } },
  })
  events(): Observable<MessageEvent> {
    return this.live.snapshots.pipe(map((snapshot) => ({ data: snapshot })));
  }
}
