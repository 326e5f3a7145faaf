import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { AuditModule } from '../audit/audit.module.js';
import { SessionCookie } from './session-cookie.js';
import { SessionRequirementsCheck } from './session-requirements-check.js';
import { SessionRetention } from './session-retention.js';
import { SessionGuard } from './session.guard.js';
import { Metrics } from '../operations/metrics.js';
import { COUNT_LIVE_SESSIONS_SQL, SessionsRepository } from './sessions.repository.js';
import { SessionsService } from './sessions.service.js';

@Module({
  imports: [AuditModule, DiscoveryModule],
  providers: [
    SessionsService,
    SessionsRepository,
    SessionCookie,
    SessionRetention,
    SessionRequirementsCheck,
    { provide: APP_GUARD, useClass: SessionGuard },
  ],
  exports: [SessionsService, SessionsRepository, SessionCookie],
})
export class SessionsModule {
  constructor(metrics: Metrics) {
    metrics.countLiveSessionsWith(COUNT_LIVE_SESSIONS_SQL);
  }
}
