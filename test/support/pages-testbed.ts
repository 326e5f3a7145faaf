import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '@jest/globals';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { getDataSourceToken } from '@nestjs/typeorm';
import { chromium, type Browser as Chromium, type BrowserContext, type Page } from 'playwright-core';
import type { DataSource } from 'typeorm';
import { createApp } from '../../src/app/app.factory.js';
import type { AppConfig } from '../../src/app/app.config.js';
import { createRootLogger } from '../../src/common/logging/logger.js';
import { grantAdminRole } from '../../src/accounts/grant-admin.js';
import { resolveSandboxProviders, type RunningSandboxes } from '../../sandbox/resolve-sandbox.js';
import { freePort } from './free-port.js';
import { CapturedLogs, testConfig } from './test-app.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/**
 * The real app as `npm start` runs it in sandbox mode — all four sandbox providers on their own ports, the
 * backend's pages — driven by a real browser: Debian's Chromium through playwright-core (never a downloaded one).
 */
export interface PagesTestbed {
  baseUrl: string;
  app: NestExpressApplication;
  dataSource: DataSource;
  config: AppConfig;
  sandboxes: RunningSandboxes;
  browser: Chromium;
  /** A fresh browser profile (its own cookies), like another person or another computer. */
  newPerson(): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

const CHROMIUM_CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const found = CHROMIUM_CANDIDATES.find((candidate) => candidate && existsSync(candidate));
  if (!found) {
    throw new Error(
      'The browser tests need Chromium and none was found (looked for CHROMIUM_PATH, /usr/bin/chromium, ' +
        "/usr/bin/chromium-browser). Install Debian's package: apt-get install -y chromium (.ci/run does).",
    );
  }
  return found;
}

export const SCREENSHOT_DIR = join(process.cwd(), 'artifacts', 'screenshots');

/**
 * `host`: the name the browser uses for the app. The sandboxes are on `localhost`, so `127.0.0.1` puts every provider
 * on another site, as a real provider is (browsers then say `cross-site` for the whole chain of its redirects).
 */
export async function startPagesTestbed(
  env: Record<string, string> = {},
  { host = 'localhost' }: { host?: 'localhost' | '127.0.0.1' } = {},
): Promise<PagesTestbed> {
  const executablePath = chromiumPath();
  const [port, digidentityPort, idinPort, itsmePort, eherkenningPort] = await Promise.all(
    Array.from({ length: 5 }, () => freePort()),
  );
  const baseUrl = `http://${host}:${port}`;
  const database: TestDatabase = await createTestDatabase();
  const base = testConfig(database.url, {
    PORT: String(port),
    PUBLIC_BASE_URL: baseUrl,
    DIGIDENTITY_ENABLED: 'true',
    SIGNICAT_IDIN_ENABLED: 'true',
    ITSME_ENABLED: 'true',
    SIGNICAT_EHERKENNING_ENABLED: 'true',
    SANDBOX_DIGIDENTITY_PORT: String(digidentityPort),
    SANDBOX_SIGNICAT_IDIN_PORT: String(idinPort),
    SANDBOX_ITSME_PORT: String(itsmePort),
    SANDBOX_SIGNICAT_EHERKENNING_PORT: String(eherkenningPort),
    // Where the sandboxes keep re-created accounts (next to the embedded database's folder).
    EMBEDDED_POSTGRES_DIR: join(mkdtempSync(join(tmpdir(), 'rmi-pages-')), 'postgres'),
    DIGIDENTITY_PASSWORDLESS_POLL_INTERVAL_MS: '500',
    ...env,
  });
  const logs = new CapturedLogs();
  const logger = createRootLogger(base.logLevel, logs);
  const sandboxes = await resolveSandboxProviders(base, logger);
  let app: NestExpressApplication;
  try {
    app = await createApp(sandboxes.config, logger, sandboxes.modules);
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    await sandboxes.close();
    throw error;
  }
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    // Playwright gives every launch a fresh, temporary profile (its own user-data-dir).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const contexts: BrowserContext[] = [];
  return {
    baseUrl,
    app,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    config: sandboxes.config,
    sandboxes,
    browser,
    newPerson: async () => {
      const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
      contexts.push(context);
      const page = await context.newPage();
      watchPage(page);
      return { context, page };
    },
    close: async () => {
      await browser.close();
      await app.close();
      await sandboxes.close();
      await database.drop();
    },
  };
}

/** Every CSP refusal or script error on our pages fails the test that caused it. */
const pageProblems = new WeakMap<Page, string[]>();

function watchPage(page: Page): void {
  const problems: string[] = [];
  pageProblems.set(page, problems);
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
}

export function expectNoPageProblems(page: Page): void {
  expect(pageProblems.get(page) ?? []).toEqual([]);
}

const AXE_SOURCE = readFileSync(join(process.cwd(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/**
 * axe-core on the page as it is now (WCAG 2.1 A/AA rules and best practices). Injected through the DevTools
 * protocol, so the page's CSP (no inline scripts) stays on. Returns the serious and critical violations.
 */
export async function seriousAccessibilityViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations as Array<{
      id: string;
      impact: string | null;
      help: string;
      nodes: Array<{ target: unknown[] }>;
    }>;
  });
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => JSON.stringify(node.target)),
    }));
}

/**
 * Checks a page as a person meets it: nothing refused, no sideways scrolling at 360 px, and no serious accessibility
 * problem there (axe runs once, at 360 px: the markup is the same at every width, and only the narrow layout has
 * tables that scroll sideways); a screenshot at both widths.
 */
export async function checkPage(page: Page, name: string): Promise<void> {
  expectNoPageProblems(page);
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 360, height: 800 });
  // Nothing may need sideways scrolling at 360 px (wide tables scroll inside their own box).
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  expect({ page: name, overflowAt360px: overflow }).toEqual({ page: name, overflowAt360px: 0 });
  expect({ page: name, violations: await seriousAccessibilityViolations(page) }).toEqual({
    page: name,
    violations: [],
  });
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}-360px.png`), fullPage: true });
  if (viewport) await page.setViewportSize(viewport);
}

/** At a sandbox's persona page: continue as the persona whose label contains `label`. */
export async function choosePersona(page: Page, label: string): Promise<void> {
  const form = page.locator('form.persona', { hasText: label });
  await form
    .getByRole('button')
    .click({ timeout: 10_000 })
    .catch(async (error: Error) => {
      const text = await page
        .locator('body')
        .innerText()
        .catch(() => '');
      throw new Error(`no persona "${label}" at ${page.url()}: ${text.slice(0, 500)} (${error.message})`);
    });
}

/** The account made admin as `npm run admin:grant` would (by provider subject or account id). */
export async function grantAdmin(bed: PagesTestbed, target: string): Promise<void> {
  const result = await grantAdminRole(bed.dataSource, target, 'pages-test');
  expect(result.outcome).toBe('granted');
}
