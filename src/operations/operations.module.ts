import { Global, Module } from '@nestjs/common';
import { KeepAliveDrain } from './keep-alive-drain.js';
import { Metrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';
import { MonitoringDatabase } from './monitoring-database.js';

/** What operators see of the running app: readiness checks on a connection of their own, Prometheus metrics. */
@Global()
@Module({
  providers: [MonitoringDatabase, Metrics, MetricsServer, KeepAliveDrain],
  exports: [MonitoringDatabase, Metrics],
})
export class OperationsModule {}
