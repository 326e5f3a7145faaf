import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module.js';
import { AuditModule } from '../audit/audit.module.js';
import { AuthModule } from '../auth/auth.module.js';
import { type AppConfig, PROVIDER_CONFIGS, type ProviderKey } from './app.config.js';
import { ConfigModule } from '../config/config.module.js';
import { DatabaseModule } from './database.module.js';
import { HealthModule } from '../health/health.module.js';
import { LoggerModule } from '../common/logging/logger.module.js';
import { DigidentityModule } from '../providers/digidentity/digidentity.module.js';
import { SignicatIdinModule } from '../providers/signicat-idin/signicat-idin.module.js';
import { ItsmeModule } from '../providers/itsme/itsme.module.js';
import { SignicatEherkenningModule } from '../providers/signicat-eherkenning/signicat-eherkenning.module.js';
import type { Logger } from 'pino';
import { MeModule } from '../me/me.module.js';
import { OperationsModule } from '../operations/operations.module.js';
import { LinkingModule } from '../linking/linking.module.js';
import { RmiItemsModule } from '../rmi-items/rmi-items.module.js';
import { SermiModule } from '../sermi/sermi.module.js';
import { SessionsModule } from '../sessions/sessions.module.js';
import { PagesModule } from '../pages/pages.module.js';

/** Each provider's module, imported only while the provider is enabled. */
const PROVIDER_MODULES: Record<ProviderKey, Type> = {
  digidentity: DigidentityModule,
  signicatIdin: SignicatIdinModule,
  itsme: ItsmeModule,
  signicatEherkenning: SignicatEherkenningModule,
};

@Module({})
export class AppModule {
  /** `extraModules`: development additions such as the sandbox portal page; never used in production. */
  static register(config: AppConfig, logger: Logger, extraModules: Type[] = []): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(logger),
        DatabaseModule.forRoot(config.database),
        OperationsModule,
        // Express tries routes in the order their modules come here: the routes every person hits first (a login's
        // start and callback, "who am I", a SERMI decision), the admin API and pages after them.
        ...PROVIDER_CONFIGS.filter(({ key }) => config[key]).map(({ key }) => PROVIDER_MODULES[key]),
        MeModule,
        SermiModule,
        AuditModule,
        SessionsModule,
        AccountsModule,
        LinkingModule,
        AuthModule,
        HealthModule,
        RmiItemsModule,
        PagesModule,
        ...extraModules,
      ],
    };
  }
}
