import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { AUDIT_EVENT } from '../../audit/audit-event-types.js';
import { AuditService } from '../../audit/audit.service.js';
import { InjectRootLogger } from '../../common/logging/logger.module.js';
import { ApiSession } from '../../common/openapi/problem-responses.js';
import type { SessionPrincipal } from '../../access/authenticated-request.js';
import { CurrentPrincipal, RequireRoles } from '../../access/auth.decorators.js';
import { EXPORT_CONTENT_TYPES, setExportHeaders, streamExport } from './access-log-export.js';
import { AccessLogQueryService } from './access-log-query.service.js';
import { AccessLogExportQueryDto, AccessLogQueryDto } from './dto/access-log-query.dto.js';
import { AccessLogPageDto } from './dto/access-log-record.dto.js';
import { RequestId } from '../../common/request-context/request-context.js';

/** VINs can be personal data (docs/sermi.md#what-is-logged): admins only, and every read is itself audited. */
@ApiTags('admin')
@ApiSession(403)
@RequireRoles('admin')
@Controller('api/admin/sermi/access-log')
export class AdminAccessLogController {
  constructor(
    private readonly query: AccessLogQueryService,
    private readonly audit: AuditService,
    @InjectRootLogger() private readonly logger: Logger,
  ) {}

  @Get()
  @ApiOperation({ summary: 'SERMI access log records, newest first, filtered (the read is audited)' })
  @ApiOkResponse({ type: AccessLogPageDto })
  @ApiSession(400, 403)
  async list(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: AccessLogQueryDto,
  ): Promise<AccessLogPageDto> {
    const page = await this.query.list(query);
    await this.audit.recordListRead(
      AUDIT_EVENT.sermiAccessLogViewed,
      principal.accountId,
      requestId,
      query,
      page.items.length,
    );
    return page;
  }

  /**
   * `@Res()` because the body is streamed: Nest does not send a return value here, while guards, the validation
   * pipe, interceptors and the problem filter still apply to everything up to the first byte.
   */
  @Get('export')
  @ApiOperation({
    summary: 'Download the matching records, oldest first, as CSV or NDJSON (streamed; the export is audited)',
  })
  @ApiProduces(EXPORT_CONTENT_TYPES.csv, EXPORT_CONTENT_TYPES.ndjson)
  @ApiOkResponse({ description: 'The records; one line per record (CSV with a header row)' })
  @ApiSession(400, 403, 429)
  async export(
    @CurrentPrincipal() principal: SessionPrincipal,
    @RequestId() requestId: string | null,
    @Query() query: AccessLogExportQueryDto,
    @Res() res: Response,
  ): Promise<void> {
    const { format, ...filters } = query;
    // Express answers HEAD with the GET route: say what a download would be, without running (or auditing) one.
    if (res.req.method === 'HEAD') {
      setExportHeaders(res, format);
      res.end();
      return;
    }
    const cursor = await this.query.openExport(filters);
    try {
      // On the record before a single row leaves the building.
      await this.audit.record({
        type: AUDIT_EVENT.sermiAccessLogExported,
        actor: { type: 'account', accountId: principal.accountId },
        requestId,
        details: { format, filters },
      });
    } catch (error) {
      await cursor.close(false);
      throw error;
    }
    await streamExport(res, cursor, format, this.logger);
  }
}
