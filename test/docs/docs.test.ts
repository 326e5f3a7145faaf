import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configurationReference, CONFIGURATION_FILE, settingsSections } from '../../scripts/config-reference.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';

const read = (path: string) => readFileSync(join(PROJECT_ROOT, path), 'utf8');

describe('documentation', () => {
  it('docs/configuration.md matches the settings classes (run `npm run docs:config` after changing a setting)', async () => {
    expect(read(CONFIGURATION_FILE)).toBe(await configurationReference());
  });

  it('describes every setting where it is declared, and titles every settings class', () => {
    const sections = settingsSections();
    expect(sections.filter((section) => !section.title || !section.introduction).map((s) => s.className)).toEqual([]);
    const settings = sections.flatMap((section) => section.settings);
    expect(settings.filter((setting) => setting.description.length < 10).map((s) => s.name)).toEqual([]);
    expect(settings.length).toBeGreaterThan(80);
  });
});
