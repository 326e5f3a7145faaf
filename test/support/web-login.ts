import type { Browser } from './browser.js';

/**
 * Drives a Digidentity web login the way a person does in the sandbox: the portal's login link, the provider's
 * persona page, the persona's button. Stops before the callback is delivered and returns its URL, so callers can
 * deliver it (or replay it, or deliver it elsewhere). A browser with a live provider session comes straight back.
 */
export async function reachCallback(
  browser: Browser,
  appBaseUrl: string,
  personaId: string,
  returnTo = '/portal/home',
): Promise<string> {
  const isCallback = (url: string) => url.startsWith(`${appBaseUrl}/auth/digidentity/callback`);
  const start = `${appBaseUrl}/auth/digidentity/login?returnTo=${encodeURIComponent(returnTo)}`;
  const interaction = await browser.follow(start, isCallback);
  if (interaction.location && isCallback(interaction.location)) return interaction.location;
  if (interaction.status !== 200) throw new Error(`no persona page: ${interaction.status} ${interaction.body}`);
  const chosen = await browser.follow(`${interaction.url.replace(/\/$/, '')}/login`, isCallback, {
    form: { persona: personaId },
  });
  if (!chosen.location || !isCallback(chosen.location)) throw new Error(`no callback: ${chosen.status} ${chosen.body}`);
  return chosen.location;
}
