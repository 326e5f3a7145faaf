import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENVIRONMENT_SCHEMAS } from './app.config.js';

const envExample = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.env.example'), 'utf8');

function documented(): Map<string, string> {
  const entries = envExample
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => {
      const [name, ...value] = line.split('=');
      return [name, value.join('=')] as const;
    });
  return new Map(entries);
}

function asEnvValue(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}

describe('.env.example', () => {
  it('documents every variable the app reads, with its actual default', () => {
    const instances = ENVIRONMENT_SCHEMAS.map((Schema) => new Schema() as object);
    const defaults = instances.flatMap((instance) =>
      Object.entries(instance).map(([name, value]) => [name, asEnvValue(value)]),
    );
    const optional = [
      'DATABASE_URL',
      'DATABASE_MIGRATION_URL',
      'DIGIDENTITY_ISSUER',
      'DIGIDENTITY_CLIENT_ID',
      'DIGIDENTITY_CLIENT_SECRET',
      'DIGIDENTITY_PRODUCT_SCOPE',
      'SIGNICAT_IDIN_ISSUER',
      'SIGNICAT_IDIN_CLIENT_ID',
      'SIGNICAT_IDIN_CLIENT_SECRET',
      'SIGNICAT_IDIN_BANK_BIC',
      'ITSME_ISSUER',
      'ITSME_CLIENT_ID',
      'ITSME_SERVICE_CODE',
      'ITSME_SIGNING_KEY',
      'ITSME_ENCRYPTION_KEYS',
      'ITSME_UI_LOCALES',
      'SIGNICAT_EHERKENNING_BASE_URL',
      'SIGNICAT_EHERKENNING_CLIENT_ID',
      'SIGNICAT_EHERKENNING_CLIENT_SECRET',
      'SIGNICAT_EHERKENNING_LOA',
      'SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS',
      'SERMI_GRANT_SIGNING_KEY',
      'SERMI_GRANT_PUBLISHED_PUBLIC_KEYS',
      'API_DOCS_ENABLED',
      'LOGIN_BINDING_KEY',
      'PUBLIC_BASE_URL',
      'METRICS_PORT',
      'METRICS_TOKEN',
    ];
    const names = [...instances.flatMap((instance) => Object.keys(instance)), ...optional];
    expect([...documented().keys()].sort()).toEqual([...new Set(names)].sort());
    for (const [name, value] of defaults) expect([name, documented().get(name)]).toEqual([name, value]);
  });
});
