import { describe, expect, it } from '@jest/globals';
import { Controller, Module, Post } from '@nestjs/common';
import { RequireRoles, SessionCheckedByStatement } from '../../src/access/auth.decorators.js';
import { createTestDatabase } from '../support/test-database.js';
import { startTestApp } from '../support/test-app.js';

@Controller('misconfigured')
class Misconfigured {
  @Post()
  @SessionCheckedByStatement()
  @RequireRoles('admin')
  decide() {}
}

@Module({ controllers: [Misconfigured] })
class MisconfiguredModule {}

describe('route session requirements', () => {
  it('keep the app from starting with a statement-checked route that requires roles', async () => {
    const database = await createTestDatabase();
    try {
      await expect(startTestApp({}, { database, extraModules: [MisconfiguredModule] })).rejects.toThrow(
        'Routes whose statement checks their session cannot require roles (they are not in it): Misconfigured.decide',
      );
    } finally {
      await database.drop();
    }
  });
});
