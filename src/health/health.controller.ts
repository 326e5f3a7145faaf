import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AppException } from '../common/problem/app-exception.js';
import { ApiProblems } from '../common/openapi/problem-responses.js';
import { type DatabaseProbe, MonitoringDatabase } from '../operations/monitoring-database.js';
import { AuditSealer } from '../audit/audit-sealer.js';
import type { SealStatus } from '../common/hash-chain/log-sealer.js';
import { SermiLogSealer } from '../sermi/access-log/sermi-log-sealer.js';
import { Public } from '../access/auth.decorators.js';

class HealthDto {
  status: 'ok';
}

type SealingCheck =
  | { status: 'ok' | 'lagging'; unsealedRecords: number; lagSeconds: number; measuredAt: string }
  | { status: 'not_measured' };

class ReadyDto {
  status: 'ok';
  checks: { database: DatabaseProbe; accessLogSealing: SealingCheck; auditSealing: SealingCheck };
}

const READY_SCHEMA = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    checks: {
      type: 'object',
      required: ['database', 'accessLogSealing', 'auditSealing'],
      properties: {
        database: {
          type: 'object',
          description: 'Checked on a connection of its own, never behind the request pool',
          properties: {
            status: { type: 'string', enum: ['ok', 'failing'] },
            latencyMs: { type: 'number' },
            reason: { type: 'string', enum: ['timeout', 'connection_refused', 'authentication_failed', 'unavailable'] },
          },
        },
        accessLogSealing: {
          type: 'object',
          description:
            'How far behind the SERMI access log sealing is, as this instance last measured it. `lagging` (past ' +
            'SERMI_LOG_SEAL_LAG_WARN_SECONDS) does not make the instance unready: every instance shares it.',
          properties: {
            status: { type: 'string', enum: ['ok', 'lagging', 'not_measured'] },
            unsealedRecords: { type: 'integer' },
            lagSeconds: { type: 'number' },
            measuredAt: { type: 'string', format: 'date-time' },
          },
        },
        auditSealing: {
          type: 'object',
          description:
            'The same for the audit trail (unsealedRecords counts its events); `lagging` is past ' +
            'AUDIT_SEAL_LAG_WARN_SECONDS.',
          properties: {
            status: { type: 'string', enum: ['ok', 'lagging', 'not_measured'] },
            unsealedRecords: { type: 'integer' },
            lagSeconds: { type: 'number' },
            measuredAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  },
};

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly database: MonitoringDatabase,
    private readonly sealer: SermiLogSealer,
    private readonly auditSealer: AuditSealer,
  ) {}

  @Get('health')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } } } })
  health(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Readiness: the database answers (503 with the reason when it does not); sealing lag of both logs',
  })
  @ApiOkResponse({ schema: READY_SCHEMA })
  @ApiProblems(503)
  async ready(): Promise<ReadyDto> {
    const database = await this.database.probe();
    const checks = {
      database,
      accessLogSealing: sealing(this.sealer.status),
      auditSealing: sealing(this.auditSealer.status),
    };
    if (database.status !== 'ok') {
      throw new AppException('service_unavailable', `The database is not reachable (${database.reason})`, { checks });
    }
    return { status: 'ok', checks };
  }
}

function sealing(status: SealStatus | null): SealingCheck {
  if (!status) return { status: 'not_measured' };
  return {
    status: status.lagging ? 'lagging' : 'ok',
    unsealedRecords: status.unsealedRecords,
    lagSeconds: status.lagSeconds,
    measuredAt: status.measuredAt.toISOString(),
  };
}
