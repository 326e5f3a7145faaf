import { Global, Module } from '@nestjs/common';
import { KeepAliveDrain } from './keep-alive-drain.js';
import { MonitoringDatabase } from './monitoring-database.js';

/** What operators see of the running app: readiness checks on a connection of their own. */
@Global()
@Module({
  providers: [MonitoringDatabase, KeepAliveDrain],
  exports: [MonitoringDatabase],
})
export class OperationsModule {}
