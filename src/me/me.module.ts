import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { MeSessionsController } from './me-sessions.controller.js';
import { MeController } from './me.controller.js';

@Module({ imports: [AuditModule, AuthModule, SessionsModule], controllers: [MeController, MeSessionsController] })
export class MeModule {}
