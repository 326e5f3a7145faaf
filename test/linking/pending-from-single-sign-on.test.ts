import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PERSONAS, type Persona } from '../../sandbox/digidentity/personas.js';
import { LoginStarters } from '../../src/auth/login-starters.js';
import { Browser } from '../support/browser.js';
import { portalWrite } from '../support/link-flow.js';
import { eventually } from '../support/eventually.js';
import {
  confirmProviderSignOut,
  errorPage,
  IDIN_CALLBACK,
  idTokenIssuer,
  keptSignOutTokens,
  newIdinPersona,
  pendingPage,
  SIGNED_OUT_MARKER,
  startProvidersTestbed,
  type ProvidersTestbed,
} from '../support/providers-testbed.js';

const NEXT_PERSON: Persona = {
  id: 'shared-pc-next-0001',
  label: 'The next person',
  description: 'signs in at the shared PC after the previous person left',
  claims: { ...PERSONAS[0].claims, ioeuid: 'NL/EXAMPLECAB/3434343434B' },
};

/**
 * An identity held while the browser was signed in may be attached at once — unless the provider answered from its
 * single sign-on session: at a shared PC that is the previous person's sign-in, not the signed-in person's.
 */
describe('a pending identity answered from the provider’s single sign-on session', () => {
  let bed: ProvidersTestbed;
  let base: string;

  beforeAll(async () => {
    bed = await startProvidersTestbed({
      digidentityPersonas: [...PERSONAS, NEXT_PERSON],
    });
    base = bed.app.baseUrl;
  });
  afterAll(async () => bed.close());

  it('is not attached at once to the signed-in account: it must be proven again, which the leftover cannot', async () => {
    const pc = new Browser();
    // The previous person (no account) signs in with iDIN, is held, forgets the sign-in as the page advises, and leaves.
    expect((await bed.idinLogin(pc, newIdinPersona(bed, 'shared-pc-previous-0001').id)).location).toEqual(
      pendingPage(bed),
    );
    const forget = await pc.request(`${base}/pending/forget`, { form: {}, headers: { Origin: base } });
    expect(forget.status).toBe(303);
    bed.idin.signIns.ageSignIns(10);

    // The next person signs in with their own Trust Centre account, then clicks "Sign in with iDIN". Since someone
    // left this browser, its logins demand a new sign-in: iDIN shows its sign-in page.
    await bed.digidentityLogin(pc, NEXT_PERSON.id);
    const account = (await pc.request(`${base}/api/me`)).json<{ account: { id: string } }>().account.id;
    const toIdin = new URL((await pc.request(`${base}/auth/signicat-idin/login`)).location!);
    expect([toIdin.searchParams.get('prompt'), toIdin.searchParams.get('max_age')]).toEqual(['login', '0']);
    const asked = await pc.follow(toIdin.href, (next) => next.startsWith(`${base}${IDIN_CALLBACK}`));
    expect(asked.location?.startsWith(`${base}${IDIN_CALLBACK}`) ?? false).toBe(false);

    // Without that note (the next person removed it), iDIN answers from the previous person's session.
    pc.cookies(base).delete(SIGNED_OUT_MARKER);
    const silent = await pc.follow(`${base}/auth/signicat-idin/login`, (next) =>
      next.startsWith(`${base}${IDIN_CALLBACK}`),
    );
    expect(silent.location?.startsWith(`${base}${IDIN_CALLBACK}`)).toBe(true);
    expect((await pc.request(silent.location!)).location).toEqual(pendingPage(bed));

    const pending = (await pc.request(`${base}/api/pending-identity`)).json<{ id: string }>();
    const [held] = await bed.app.dataSource.query(`SELECT held_for_session_id FROM pending_identities WHERE id = $1`, [
      pending.id,
    ]);
    expect(held).toEqual({ held_for_session_id: null });
    const attach = await portalWrite(pc, bed.app, 'POST', '/api/pending-identity/attach', {
      pendingIdentityId: pending.id,
    });
    const { status, redirectUrl } = attach.json<{ status: string; redirectUrl: string }>();
    expect(status).toBe('confirm_with_provider');

    // The proof is a new sign-in; the leftover session answering it (prompt=login stripped) is refused.
    bed.idin.signIns.ignoreFreshnessRequests = true;
    try {
      const confirm = await pc.follow(redirectUrl, (next) => next.startsWith(`${base}${IDIN_CALLBACK}`));
      expect((await pc.request(confirm.location!)).location).toBe(errorPage(bed, 'authentication_not_fresh'));
    } finally {
      bed.idin.signIns.ignoreFreshnessRequests = false;
    }
    const links = await bed.app.dataSource.query(`SELECT provider FROM identity_links WHERE account_id = $1`, [
      account,
    ]);
    expect(links).toEqual([{ provider: 'digidentity' }]);
  });

  it('signs a browser that forgets a held sign-in out at the provider too, so the next person gets its sign-in page', async () => {
    const pc = new Browser();
    const person = newIdinPersona(bed, 'shared-pc-forgets-0001');
    expect((await bed.idinLogin(pc, person.id)).location).toEqual(pendingPage(bed));
    const forget = await pc.request(`${base}/pending/forget`, { form: {}, headers: { Origin: base } });
    const providerSignOut = new URL(forget.location!);
    expect(providerSignOut.origin).toBe(new URL(bed.idin.issuer).origin);
    // With the held login's ID token: kept in the transaction that held the identity.
    expect(idTokenIssuer(providerSignOut.searchParams.get('id_token_hint'))).toBe(bed.idin.issuer);
    // The round ends where the pending page's own "Forget" ends: on its notice, not on LOGOUT_REDIRECT_URL.
    const done = await pc.request(await confirmProviderSignOut(pc, base, providerSignOut.href));
    expect(done.location).toBe(`${base}/pending?notice=pending_forgotten`);

    // Even without the note that someone left, iDIN shows its sign-in page instead of answering with that sign-in.
    pc.cookies(base).delete(SIGNED_OUT_MARKER);
    const next = await pc.follow(`${base}/auth/signicat-idin/login`, (url) =>
      url.startsWith(`${base}${IDIN_CALLBACK}`),
    );
    expect(next.location?.startsWith(`${base}${IDIN_CALLBACK}`) ?? false).toBe(false);
  });

  /** A Trust Centre login refused after its token exchange (its ID token kept for the sign-out), then a held iDIN one. */
  async function holdAfterRefusedTrustCentreLogin(pc: Browser, idinPersonId: string) {
    expect((await bed.digidentityLogin(pc, 'broken-missing-ioeuid-0001')).location).toBe(
      errorPage(bed, 'sermi_claims_missing'),
    );
    await eventually(async () => 'digidentity' in (await keptSignOutTokens(bed, pc)));
    const person = newIdinPersona(bed, idinPersonId);
    expect((await bed.idinLogin(pc, person.id)).location).toEqual(pendingPage(bed));
    return person;
  }

  it('ends a round of two providers on the notice too, and only ever on a page of this site', async () => {
    const pc = new Browser();
    const person = await holdAfterRefusedTrustCentreLogin(pc, 'shared-pc-forgets-0002');
    const forget = await pc.request(`${base}/pending/forget`, { form: {}, headers: { Origin: base } });
    const first = await pc.request(await confirmProviderSignOut(pc, base, forget.location!));
    const second = await pc.request(await confirmProviderSignOut(pc, base, first.location!));
    expect([new URL(forget.location!).origin, new URL(first.location!).origin]).toEqual(
      [bed.digidentity.issuer, bed.idin.issuer].map((issuer) => new URL(issuer).origin),
    );
    expect(second.location).toBe(`${base}/pending?notice=pending_forgotten`);

    // Where the round ends travels in the browser's cookie: one pointing elsewhere ends it on this site's front page.
    await bed.idinLogin(pc, person.id);
    const again = await pc.request(`${base}/pending/forget`, { form: {}, headers: { Origin: base } });
    const round = pc.cookies(base);
    const name = [...round.keys()].find((cookie) => cookie.endsWith('rmi_logout'))!;
    const [state, provider] = decodeURIComponent(round.get(name)!).split(' ');
    round.set(name, encodeURIComponent(`${state} ${provider} //elsewhere.example/pending`));
    expect((await pc.request(await confirmProviderSignOut(pc, base, again.location!))).location).toBe(`${base}/`);
  });

  it('ends on the notice when the next provider of the round cannot be reached', async () => {
    const pc = new Browser();
    await holdAfterRefusedTrustCentreLogin(pc, 'shared-pc-forgets-0003');
    const forget = await pc.request(`${base}/pending/forget`, { form: {}, headers: { Origin: base } });
    expect(new URL(forget.location!).origin).toBe(new URL(bed.digidentity.issuer).origin);
    const idinLogout = bed.app.app.get(LoginStarters).get('signicat-idin')!.providerLogout!;
    const endSessionUrl = idinLogout.endSessionUrl.bind(idinLogout);
    let asked = 0;
    idinLogout.endSessionUrl = () => {
      asked += 1;
      return Promise.reject(new Error('discovery unreachable'));
    };
    try {
      const back = await pc.request(await confirmProviderSignOut(pc, base, forget.location!));
      expect([back.location, asked]).toEqual([`${base}/pending?notice=pending_forgotten`, 1]);
    } finally {
      idinLogout.endSessionUrl = endSessionUrl;
    }
  });
});
