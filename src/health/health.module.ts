import { Module } from '@nestjs/common';
import { AccessLogModule } from '../sermi/access-log/access-log.module.js';
import { HealthController } from './health.controller.js';

@Module({ imports: [AccessLogModule], controllers: [HealthController] })
export class HealthModule {}
