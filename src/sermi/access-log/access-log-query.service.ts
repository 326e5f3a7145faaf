import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../../common/problem/app-exception.js';
import type { AccessLogFilterDto, AccessLogQueryDto } from './dto/access-log-query.dto.js';
import type { AccessLogPageDto } from './dto/access-log-record.dto.js';
import { type AccessLogExportCursor, SermiAccessLogRepository } from './sermi-access-log.repository.js';

/**
 * Exports running at once in this process. Each holds a pooled connection (and a snapshot) for as long as the
 * download lasts, so without a cap a few slow downloads would starve logins of connections.
 */
export const MAX_CONCURRENT_EXPORTS = 2;

/** Read side of the SERMI access log for administrators: paged queries and a streamed export. */
@Injectable()
export class AccessLogQueryService {
  private runningExports = 0;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly accessLog: SermiAccessLogRepository,
  ) {}

  /** Newest first, keyset-paginated on (recorded_at, id). */
  list(query: AccessLogQueryDto): Promise<AccessLogPageDto> {
    return this.accessLog.list(this.dataSource.manager, query);
  }

  /**
   * Opens a server-side cursor over the matching records, oldest first, on a connection of its own inside one
   * read-only REPEATABLE READ transaction (so the export is one consistent snapshot, however long it takes).
   * The caller must `close()` the result. Throws `too_many_exports` when the process's exports are all taken.
   */
  async openExport(filters: AccessLogFilterDto): Promise<AccessLogExportCursor> {
    if (this.runningExports >= MAX_CONCURRENT_EXPORTS) {
      throw new AppException('too_many_exports', `At most ${MAX_CONCURRENT_EXPORTS} exports run at once`);
    }
    this.runningExports += 1;
    return this.accessLog.openExport(this.dataSource.createQueryRunner(), filters, () => (this.runningExports -= 1));
  }
}
