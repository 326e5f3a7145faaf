import { describe, expect, it } from '@jest/globals';
import { Controller, Get, Post } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { RequireRoles, SessionCheckedByStatement } from '../access/auth.decorators.js';
import { SessionRequirementsCheck } from './session-requirements-check.js';

@Controller('decisions')
class StatementChecked {
  @Post()
  @SessionCheckedByStatement()
  decide() {}

  @Get()
  @RequireRoles('admin')
  list() {}
}

@Controller('admin')
@RequireRoles('admin')
class AdminOnly {
  @Post()
  @SessionCheckedByStatement()
  decide() {}
}

async function start(controllers: Array<new () => object>) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers,
    providers: [SessionRequirementsCheck],
  }).compile();
  return moduleRef.createNestApplication({ logger: false }).init();
}

describe('SessionRequirementsCheck', () => {
  it('starts an app whose statement-checked routes require no roles', async () => {
    const app = await start([StatementChecked]);
    await app.close();
  });

  it('refuses to start with a statement-checked route that requires roles, naming it', async () => {
    await expect(start([StatementChecked, AdminOnly])).rejects.toThrow(
      'Routes whose statement checks their session cannot require roles (they are not in it): AdminOnly.decide',
    );
  });
});
