import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSync } from 'node:fs';
import { createApp } from '../../src/app/app.factory.js';
import { createRootLogger } from '../../src/common/logging/logger.js';
import { NonBlockingLogStream } from '../../src/common/logging/non-blocking-log-stream.js';
import { Browser } from '../support/browser.js';
import { IOE, startDigidentityTestbed, type DigidentityTestbed } from '../support/digidentity-testbed.js';
import { freePort } from '../support/free-port.js';
import { testConfig } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-database.js';

const TOKEN = 'metrics-scrape-token-0123456789abcdef';
const VIN = 'WVWZZZ1JZXW000001';

/** A Prometheus text exposition, read the way a scraper does. */
class Exposition {
  readonly types = new Map<string, string>();
  private readonly samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];

  constructor(readonly text: string) {
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type) this.types.set(type[1], type[2]);
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!sample) continue;
      const labels = Object.fromEntries(
        [...(sample[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
      );
      this.samples.push({ name: sample[1], labels, value: Number(sample[3]) });
    }
  }

  /** The sum of the samples of `name` whose labels include `labels` (0 when there are none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  }

  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.samples.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  }

  labelValues(name: string, label: string): string[] {
    return [...new Set(this.samples.filter((s) => s.name === name).map((s) => s.labels[label]))].sort();
  }
}

describe('Prometheus metrics', () => {
  let bed: DigidentityTestbed;
  let metricsUrl: string;

  beforeAll(async () => {
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    bed = await startDigidentityTestbed({
      env: {
        METRICS_PORT: String(metricsPort),
        METRICS_TOKEN: TOKEN,
        SERMI_LOG_SEAL_INTERVAL_MS: '100',
        DATABASE_POOL_SIZE: '3',
      },
    });
    await bed.app.dataSource.query(
      `INSERT INTO rmi_items (code, title, security_related) VALUES ('IMMO_KEY_PROGRAMMING', 'Key programming', true)`,
    );
  });
  afterAll(async () => bed.close());

  const scrape = async (): Promise<Exposition> => {
    const response = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Exposition(await response.text());
  };

  it('are served on their own listener, only with the token, and never on the public port', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await fetch(metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
    expect((await fetch(`${bed.app.baseUrl}/metrics`)).status).toBe(404);
  });

  it('expose the documented series with Prometheus types', async () => {
    const before = await scrape();
    const expected: Record<string, string> = {
      rmi_logins_total: 'counter',
      rmi_login_duration_seconds: 'histogram',
      rmi_provider_request_duration_seconds: 'histogram',
      rmi_provider_request_errors_total: 'counter',
      rmi_sermi_decisions_total: 'counter',
      rmi_sermi_decision_duration_seconds: 'histogram',
      rmi_sermi_decision_batch_calls: 'histogram',
      rmi_sermi_log_writer_records_total: 'counter',
      rmi_session_lookup_batch_calls: 'histogram',
      rmi_sermi_access_log_unsealed_records: 'gauge',
      rmi_sermi_access_log_seal_lag_seconds: 'gauge',
      rmi_database_pool_connections: 'gauge',
      rmi_database_pool_max_connections: 'gauge',
      rmi_database_pool_waiting_requests: 'gauge',
      rmi_http_responses_total: 'counter',
      rmi_sessions_live: 'gauge',
      rmi_logins_kept_in_memory: 'gauge',
      rmi_log_lines_dropped_total: 'counter',
      process_cpu_seconds_total: 'counter',
      nodejs_eventloop_lag_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect([name, before.types.get(name)]).toEqual([name, type]);
    expect(before.value('rmi_database_pool_max_connections')).toBe(3);
    expect(before.has('rmi_sermi_access_log_seal_lag_seconds')).toBe(true);
  });

  it('move with logins, provider calls, decisions and responses, with labels from small fixed sets', async () => {
    const before = await scrape();
    const { browser, headers } = await bed.signedInBrowser(IOE.id);
    // A replayed callback is a refused login.
    const replay = new Browser();
    const callback = await bed.startWebLogin(replay, IOE.id);
    await replay.request(callback);
    expect((await replay.request(callback)).location).toContain('code=login_replayed');
    // A provider that does not answer in time (the testbed's OIDC_HTTP_TIMEOUT_MS; it stops when the app gives up).
    bed.hostile.hostility = { tokenDelayMs: 30_000 };
    const slow = new Browser();
    expect((await slow.request(await bed.startWebLogin(slow, IOE.id))).location).toContain('code=provider_unavailable');
    bed.hostile.hostility = {};

    for (let i = 0; i < 3; i += 1) {
      const decision = await browser.request(`${bed.app.baseUrl}/api/sermi/access`, {
        json: { vin: VIN, item: 'IMMO_KEY_PROGRAMMING' },
        headers,
      });
      expect(decision.json()).toMatchObject({ decision: 'granted', reason: 'sermi_session_valid' });
    }
    expect((await browser.request(`${bed.app.baseUrl}/api/nothing-here`)).status).toBe(404);

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) =>
      after.value(name, labels) - before.value(name, labels);
    expect(moved('rmi_logins_total', { provider: 'digidentity', outcome: 'success' })).toBe(2);
    expect(moved('rmi_logins_total', { provider: 'digidentity', outcome: 'login_replayed' })).toBe(1);
    expect(moved('rmi_logins_total', { provider: 'digidentity', outcome: 'provider_unavailable' })).toBe(1);
    expect(moved('rmi_login_duration_seconds_count', { provider: 'digidentity' })).toBe(4);
    expect(moved('rmi_provider_request_duration_seconds_count', { provider: 'digidentity' })).toBeGreaterThanOrEqual(5);
    expect(moved('rmi_provider_request_errors_total', { provider: 'digidentity', reason: 'timeout' })).toBe(1);
    expect(moved('rmi_sermi_decisions_total', { decision: 'granted', reason: 'sermi_session_valid' })).toBe(3);
    expect(moved('rmi_sermi_decision_duration_seconds_count')).toBe(3);
    expect(moved('rmi_sermi_decision_duration_seconds_bucket', { le: '+Inf' })).toBe(3);
    // One request at a time: every statement carried one call.
    expect(moved('rmi_sermi_decision_batch_calls_count')).toBe(3);
    expect(moved('rmi_sermi_decision_batch_calls_bucket', { le: '1' })).toBe(3);
    // One instance: it writes its own records (no SERMI_LOG_WRITER_URL).
    expect(moved('rmi_sermi_log_writer_records_total', { outcome: 'written_here' })).toBe(0);
    expect(moved('rmi_sermi_log_writer_records_total', { outcome: 'sent' })).toBe(0);
    // GET /api/me and the first decision; the next two use what the instance remembers of the session.
    expect(moved('rmi_session_lookup_batch_calls_count')).toBe(2);
    expect(moved('rmi_session_lookup_batch_calls_sum')).toBe(moved('rmi_session_lookup_batch_calls_count'));
    expect(moved('rmi_http_responses_total', { status_class: '2xx' })).toBeGreaterThanOrEqual(4);
    expect(moved('rmi_http_responses_total', { status_class: '3xx' })).toBeGreaterThanOrEqual(5);
    expect(moved('rmi_http_responses_total', { status_class: '4xx' })).toBeGreaterThanOrEqual(1);
    expect(moved('rmi_sessions_live')).toBe(2);

    // No subject, account, session or VIN ever becomes a label value.
    expect(after.labelValues('rmi_logins_total', 'outcome')).toEqual(
      expect.arrayContaining(['login_replayed', 'provider_unavailable', 'success']),
    );
    expect(after.text).not.toContain(VIN);
    expect(after.text).not.toContain(IOE.claims.ioeuid);
    expect(after.text).not.toContain(IOE.id);
  });

  it('count the web logins kept in memory: started and not called back, until the callback completes them', async () => {
    const kept = async () => (await scrape()).value('rmi_logins_kept_in_memory');
    const before = await kept();
    const browsers = [new Browser(), new Browser()];
    const callbacks = await Promise.all(browsers.map((browser) => bed.startWebLogin(browser, IOE.id)));
    expect(await kept()).toBe(before + 2);
    for (const [i, browser] of browsers.entries()) await browser.request(callbacks[i]);
    expect(await kept()).toBe(before);
  });

  it('show the request pool in use and the queries waiting for it', async () => {
    const held = Array.from({ length: 3 }, () => bed.app.dataSource.createQueryRunner());
    await Promise.all(held.map((runner) => runner.connect()));
    const waiting = bed.app.dataSource.query('SELECT 1').catch(() => undefined);
    try {
      const busy = await scrape();
      expect(busy.value('rmi_database_pool_connections', { state: 'in_use' })).toBe(3);
      expect(busy.value('rmi_database_pool_waiting_requests')).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all(held.map((runner) => runner.release()));
      await waiting;
    }
    expect((await scrape()).value('rmi_database_pool_waiting_requests')).toBe(0);
  });

  it('count the log lines the log stream had to drop', async () => {
    const database = await createTestDatabase();
    const metricsPort = await freePort();
    // A stream with no room at all: every line is dropped and counted, as when the log reader stalls.
    const stream = new NonBlockingLogStream(openSync('/dev/null', 'w'), 1);
    const app = await createApp(
      testConfig(database.url, { METRICS_PORT: String(metricsPort) }),
      createRootLogger('info', stream),
    );
    try {
      await app.listen(0, '127.0.0.1');
      const read = async () =>
        new Exposition(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).value(
          'rmi_log_lines_dropped_total',
        );
      const first = await read();
      expect(first).toBeGreaterThan(0);
      expect(first).toBe(stream.droppedLines);
      await fetch(`${await app.getUrl()}/health`);
      expect(await read()).toBeGreaterThan(first);
    } finally {
      await app.close();
      await database.drop();
    }
  });
});
