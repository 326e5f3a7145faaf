import type { DataSource } from 'typeorm';
import { stateHash } from '../../src/login-transactions/login-transactions.service.js';
import type { Browser } from './browser.js';

/**
 * Drives a login from any URL that leads to a sandbox provider (a login route, a link or re-authentication start,
 * or the provider's authorization URL itself): follows the redirects, picks the persona on the provider's page and
 * stops before the callback under `callbackPrefix` is delivered, returning its URL. A browser with a live provider
 * session (and no prompt=login) comes straight back without the persona page.
 */
export async function reachProviderCallback(
  browser: Browser,
  startUrl: string,
  personaId: string,
  callbackPrefix: string,
): Promise<string> {
  const isCallback = (url: string) => url.startsWith(callbackPrefix);
  const interaction = await browser.follow(startUrl, isCallback);
  if (interaction.location && isCallback(interaction.location)) return interaction.location;
  if (interaction.status !== 200) throw new Error(`no persona page: ${interaction.status} ${interaction.body}`);
  const chosen = await browser.follow(`${interaction.url.replace(/\/$/, '')}/login`, isCallback, {
    form: { persona: personaId },
  });
  if (!chosen.location || !isCallback(chosen.location)) throw new Error(`no callback: ${chosen.status} ${chosen.body}`);
  return chosen.location;
}

/** A Digidentity web login from the portal's login link, stopped before the callback (see reachProviderCallback). */
export function reachCallback(
  browser: Browser,
  appBaseUrl: string,
  personaId: string,
  returnTo = '/portal/home',
): Promise<string> {
  const start = `${appBaseUrl}/auth/digidentity/login?returnTo=${encodeURIComponent(returnTo)}`;
  return reachProviderCallback(browser, start, personaId, `${appBaseUrl}/auth/digidentity/callback`);
}

/** The login transaction a callback URL answers (found by the hash of its `state`, as the backend finds it). */
export async function loginOfCallback(
  dataSource: DataSource,
  callback: string,
): Promise<{ id: string; consumed_at: Date | null }> {
  const state = new URL(callback).searchParams.get('state') ?? '';
  const [row] = (await dataSource.query(`SELECT id, consumed_at FROM login_transactions WHERE state_hash = $1`, [
    stateHash(state),
  ])) as Array<{ id: string; consumed_at: Date | null }>;
  return row;
}
