import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { MeSessionsController } from './me-sessions.controller.js';
import { MeController } from './me.controller.js';

@Module({ imports: [AuditModule, SessionsModule], controllers: [MeController, MeSessionsController] })
export class MeModule {}
