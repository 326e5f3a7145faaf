import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SessionCookie } from './session-cookie.js';
import { SessionGuard } from './session.guard.js';
import { SessionsService } from './sessions.service.js';

@Module({
  providers: [SessionsService, SessionCookie, { provide: APP_GUARD, useClass: SessionGuard }],
  exports: [SessionsService, SessionCookie],
})
export class SessionsModule {}
