import { Module } from '@nestjs/common';
import { PendingIdentitiesRepository } from './pending-identities.repository.js';

@Module({ providers: [PendingIdentitiesRepository], exports: [PendingIdentitiesRepository] })
export class PendingIdentitiesModule {}
