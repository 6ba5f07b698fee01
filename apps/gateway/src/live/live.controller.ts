import { Controller, Get, MessageEvent, Res, Sse } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Response } from 'express';
import { Observable, map } from 'rxjs';
import { LivePage, servePageFile } from './live-page';
import { LiveSnapshot, OrderOutcomesDoc } from './live-snapshot';
import { LiveService } from './live.service';

@ApiTags('live')
@ApiExtraModels(LiveSnapshot, OrderOutcomesDoc)
@Controller()
export class LiveController {
  constructor(
    private readonly live: LiveService,
    private readonly files: LivePage,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'The live page: each dark store with its stock per food, its agents and its orders per second, and the latest orders with their store, items and timeline, updated every second',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({
    description: 'An HTML page that loads /live.css and /live.js and reads GET /live/events',
    content: { 'text/html': { schema: { type: 'string' } } },
  })
  page(@Res({ passthrough: true }) res: Response): string {
    return servePageFile(res, this.files.html);
  }

  // The page's own style and script are part of the page, not of the API.
  @Get('live.css')
  @ApiExcludeEndpoint()
  css(@Res({ passthrough: true }) res: Response): string {
    return servePageFile(res, this.files.css);
  }

  @Get('live.js')
  @ApiExcludeEndpoint()
  script(@Res({ passthrough: true }) res: Response): string {
    return servePageFile(res, this.files.script);
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
