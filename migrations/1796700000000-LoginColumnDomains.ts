import type { MigrationInterface, QueryRunner } from 'typeorm';

interface ColumnRule {
  table: string;
  column: string;
  /** The table CHECK it replaces, as the earlier migrations wrote it. */
  constraint: string;
  check: string;
}

interface Domain {
  name: string;
  base: string;
  /** The rule over VALUE; the same as each replaced table CHECK over its column. */
  rule: string;
  columns: ColumnRule[];
}

const PROVIDERS = `IN ('digidentity', 'itsme', 'signicat-idin', 'signicat-eherkenning')`;

const column = (table: string, name: string, suffix: string, check: string): ColumnRule => ({
  table,
  column: name,
  constraint: `${table}_${suffix}_check`,
  check,
});

const DOMAINS: Domain[] = [
  {
    name: 'identity_provider',
    base: 'text',
    rule: `VALUE ${PROVIDERS}`,
    columns: ['login_transactions', 'identity_links', 'sessions', 'sign_out_hints'].map((table) =>
      column(table, 'provider', 'provider', `"provider" ${PROVIDERS}`),
    ),
  },
  {
    name: 'sha256_digest',
    base: 'bytea',
    rule: 'octet_length(VALUE) = 32',
    columns: [
      ['login_transactions', 'state_hash'],
      ['login_transactions', 'browser_binding_hash'],
      ['sessions', 'token_hash'],
      ['sign_out_hints', 'handle_hash'],
    ].map(([table, name]) => column(table, name, name, `octet_length("${name}") = 32`)),
  },
  {
    name: 'jsonb_object',
    base: 'jsonb',
    rule: `jsonb_typeof(VALUE) = 'object'`,
    columns: [
      ['login_transactions', 'provider_data'],
      ['identity_links', 'attributes'],
      ['sessions', 'auth_context'],
    ].map(([table, name]) => column(table, name, name, `jsonb_typeof("${name}") = 'object'`)),
  },
  {
    name: 'login_purpose',
    base: 'text',
    rule: `VALUE IN ('login', 'link', 'reauthenticate')`,
    columns: [column('login_transactions', 'purpose', 'purpose', `"purpose" IN ('login', 'link', 'reauthenticate')`)],
  },
  {
    name: 'same_site_path',
    base: 'text',
    rule: `VALUE ~ '^/([^/\\\\]|$)' AND VALUE !~ '[[:cntrl:]\\\\]'`,
    columns: [
      column(
        'login_transactions',
        'return_to',
        'return_to',
        `"return_to" ~ '^/([^/\\\\]|$)' AND "return_to" !~ '[[:cntrl:]\\\\]'`,
      ),
    ],
  },
  {
    name: 'login_start_kind',
    base: 'text',
    rule: `VALUE IN ('login', 'passwordless')`,
    columns: [column('login_start_counters', 'kind', 'kind', `"kind" IN ('login', 'passwordless')`)],
  },
  {
    name: 'login_client_key',
    base: 'text',
    rule: 'length(VALUE) BETWEEN 1 AND 64',
    columns: [column('login_start_counters', 'client_key', 'client_key', `length("client_key") BETWEEN 1 AND 64`)],
  },
  {
    name: 'positive_count',
    base: 'integer',
    rule: 'VALUE > 0',
    columns: [column('login_start_counters', 'hits', 'hits', `"hits" > 0`)],
  },
  {
    name: 'provider_issuer',
    base: 'text',
    rule: 'char_length(VALUE) BETWEEN 1 AND 2048',
    columns: [column('identity_links', 'issuer', 'issuer', `char_length("issuer") BETWEEN 1 AND 2048`)],
  },
  {
    name: 'provider_subject',
    base: 'text',
    rule: 'char_length(VALUE) BETWEEN 1 AND 255',
    columns: [column('identity_links', 'subject', 'subject', `char_length("subject") BETWEEN 1 AND 255`)],
  },
];

/**
 * The single-column CHECKs of the tables every login writes, as domains with the same rules. Postgres parses and
 * plans a table's CHECKs again in every statement that writes one of its rows (about 5 µs each here, 41 per web
 * login); a domain's rules are planned once per connection. docs/architecture.md#column-domains has the measurements and
 * what a new provider now needs (a migration that changes `identity_provider`).
 *
 * No table is rewritten: each domain is created without its rule, the columns take it (the same base type: no
 * rewrite, the indexes kept), and only then is the rule added, which checks the rows already there.
 */
export class LoginColumnDomains1796700000000 implements MigrationInterface {
  name = 'LoginColumnDomains1796700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const domain of DOMAINS) {
      await queryRunner.query(`CREATE DOMAIN "${domain.name}" AS ${domain.base}`);
      for (const { table, column, constraint } of domain.columns) {
        await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "${constraint}"`);
        await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "${column}" TYPE "${domain.name}"`);
      }
      await queryRunner.query(
        `ALTER DOMAIN "${domain.name}" ADD CONSTRAINT "${domain.name}_check" CHECK (${domain.rule})`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const domain of [...DOMAINS].reverse()) {
      for (const { table, column, constraint, check } of domain.columns) {
        await queryRunner.query(`ALTER TABLE "${table}" ALTER COLUMN "${column}" TYPE ${domain.base}`);
        await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "${constraint}" CHECK (${check})`);
      }
      await queryRunner.query(`DROP DOMAIN "${domain.name}"`);
    }
  }
}
