import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { LogoutController } from './logout.controller.js';

@Module({ imports: [AuditModule, SessionsModule], controllers: [LogoutController] })
export class AuthModule {}
