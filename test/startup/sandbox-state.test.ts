import { describe, expect, it } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDigidentitySandbox } from '../../sandbox/digidentity/digidentity-sandbox.js';
import { startItsmeSandbox } from '../../sandbox/itsme/itsme-sandbox.js';

/**
 * A re-bound persona must still sign in after a restart: the backend's database keeps the re-created account's
 * subject, so the sandboxes keep it too (sandbox-state.json next to the embedded database).
 */
describe('sandbox accounts re-created before a restart', () => {
  it('keep their new subject across a restart of the Digidentity and itsme sandboxes', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'rmi-sandbox-state-')), 'sandbox-state.json');
    const start = () =>
      Promise.all([
        startDigidentitySandbox({ redirectUris: ['http://localhost:1/cb'], stateFile }),
        startItsmeSandbox({
          redirectUris: ['http://localhost:1/cb'],
          clientJwksUri: 'http://localhost:1/jwks',
          stateFile,
        }),
      ]);
    const [digidentity, itsme] = await start();
    const persona = { digidentity: digidentity.personas[0].id, itsme: itsme.personas[2].id };
    const subjects = {
      digidentity: digidentity.recreateAccount(persona.digidentity),
      itsme: itsme.recreateAccount(persona.itsme),
    };
    await Promise.all([digidentity.close(), itsme.close()]);

    const [digidentityAgain, itsmeAgain] = await start();
    try {
      expect({
        digidentity: digidentityAgain.subjectOf(persona.digidentity),
        itsme: itsmeAgain.subjectOf(persona.itsme),
      }).toEqual(subjects);
      expect(itsmeAgain.subjectOf(itsmeAgain.personas[0].id)).toBe(itsmeAgain.personas[0].id);
    } finally {
      await Promise.all([digidentityAgain.close(), itsmeAgain.close()]);
    }
  });
});
