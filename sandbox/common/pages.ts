import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';

/** What a persona page shows of a sandbox person. */
export interface PersonaChoice {
  id: string;
  label: string;
  description: string;
}

/** The public part of a private JWK (what a sandbox's JWKS endpoint publishes). */
export function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > 10_000) req.destroy();
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

export function sendHtml(res: ServerResponse, html: string, status = 200): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The HTML pages of one sandbox provider, under a banner that says which provider it stands in for (and that it is
 * not that provider).
 */
export function sandboxPages(banner: string) {
  function page(title: string, body: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
.banner{background:#b00020;color:#fff;padding:.5rem 1rem;font-weight:bold}button{margin:.25rem 0;padding:.5rem 1rem}
form.persona{border:1px solid #ccc;padding:.5rem 1rem;margin:.5rem 0}</style></head>
<body><div class="banner">${escape(banner)}</div><h1>${escape(title)}</h1>${body}</body></html>`;
  }

  /** One form per persona posting `persona=<id>` to `action`; a cancel button posting to `abortAction`. */
  function personaPage(
    personas: PersonaChoice[],
    action: string,
    abortAction: string | null,
    heading = 'Sign in as',
    intro = '',
  ): string {
    const forms = personas
      .map(
        (p) => `<form class="persona" method="post" action="${escape(action)}">
<input type="hidden" name="persona" value="${escape(p.id)}"><strong>${escape(p.label)}</strong><br><small>${escape(p.description)}</small><br>
<button type="submit" name="choose" value="${escape(p.id)}">Continue as this persona</button></form>`,
      )
      .join('\n');
    const abort = abortAction
      ? `<form method="post" action="${escape(abortAction)}"><button type="submit">Cancel the login</button></form>`
      : '';
    return page(heading, `${intro}${forms}${abort}`);
  }

  return { page, personaPage };
}

export interface HomePageOptions {
  page: (title: string, body: string) => string;
  /** The provider the sandbox stands in for. */
  name: string;
  /** What a backend is pointed at (issuer or API base URL), with this sandbox's real port. */
  endpoint: string;
  personas: PersonaChoice[];
  /** Sandboxes whose accounts can be deleted and re-created with a new subject. */
  subjectOf?: (personaId: string) => string;
  recreateAccount?: (personaId: string) => string;
  portalUrl?: string;
}

/**
 * The home page every sandbox serves at `/`, in one shape: what it stands in for, where it listens, its personas
 * and — where the provider's accounts can be re-created — a button per persona that does it and answers a page.
 * Answers true when it handled the request.
 */
export function homePage(options: HomePageOptions) {
  const { page, name, personas, subjectOf, recreateAccount, portalUrl } = options;
  const back = portalUrl ? `<p><a href="${escape(portalUrl)}">Back to the portal’s sign-in page</a></p>` : '';
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const recreate = /^\/sandbox\/personas\/([\w-]+)\/recreate$/.exec(url.pathname);
    if (req.method === 'POST' && recreate && recreateAccount) {
      const persona = personas.find((p) => p.id === recreate[1]);
      if (!persona) {
        sendHtml(
          res,
          page('Unknown persona', `<p>No persona ${escape(recreate[1])}.</p><p><a href="/">Back</a></p>`),
          404,
        );
        return true;
      }
      const subject = recreateAccount(persona.id);
      sendHtml(
        res,
        page(
          `${name} account re-created`,
          `<p>${escape(persona.label)} deleted their ${escape(name)} account and created a new one: same person, new subject <code>${escape(subject)}</code>. Their next sign-in to the portal is held as a pending identity until it is attached or re-bound.</p><p><a href="/">Back to the sandbox home page</a></p>${back}`,
        ),
      );
      return true;
    }
    if (req.method !== 'GET' || url.pathname !== '/') return false;
    const rows = personas
      .map((p) => {
        const subject = subjectOf ? `<br><small>subject <code>${escape(subjectOf(p.id))}</code></small>` : '';
        const button = recreateAccount
          ? `<form method="post" action="/sandbox/personas/${escape(p.id)}/recreate"><button type="submit">Delete and re-create ${escape(p.label)}’s ${escape(name)} account (new subject)</button></form>`
          : '';
        return `<li class="persona"><strong>${escape(p.label)}</strong><br><small>${escape(p.description)}</small>${subject}${button}</li>`;
      })
      .join('\n');
    sendHtml(
      res,
      page(
        `${name} sandbox`,
        `<p>A local stand-in for ${escape(name)}, not for production: anyone can sign in as any persona.</p><p>${escape(options.endpoint)}</p>${back}<h2>Personas</h2><ul>${rows}</ul>`,
      ),
    );
    return true;
  };
}
