import { Controller, Get, Header, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { AppConfig } from '../src/config/app.config.js';
import { InjectAppConfig } from '../src/config/config.module.js';
import { Public } from '../src/sessions/auth.decorators.js';

const HEAD = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>RMI portal — sandbox sign-in</title>
<style>body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}
.banner{background:#b00020;color:#fff;padding:.5rem 1rem;font-weight:bold}#qr svg{width:14rem;height:14rem}
a.button,button{display:inline-block;margin:.5rem 0;padding:.6rem 1rem;font-size:1rem}</style></head>
<body><div class="banner">SANDBOX — local test providers, not for production</div>
<h1>Sign in to the RMI portal</h1>`;

const DIGIDENTITY = `<p>Digidentity (SERMI Trust Centre) is a local sandbox: pick a persona instead of entering a PIN.</p>
<h2>Web login</h2>
<a class="button" href="/auth/digidentity/login?returnTo=/api/me">Sign in with Digidentity</a>
<h2>Passwordless (QR) login</h2>
<button id="start" type="button">Show a QR code</button>
<div id="qr"></div><p id="scan"></p><p id="status" role="status"></p>`;

const IDIN = `<h2>iDIN (Signicat)</h2>
<p>iDIN is a local sandbox: pick a person instead of signing in with a bank. A new iDIN identity is held until it is
attached to an account (SIGNICAT_IDIN_UNKNOWN_IDENTITY_POLICY, default pending).</p>
<a class="button" href="/auth/signicat-idin/login?returnTo=/api/me">Sign in with iDIN (sandbox)</a>`;

const ITSME = `<h2>itsme</h2>
<p>itsme is a local sandbox: pick a person instead of confirming in the itsme app. Its home page (port 3003 by
default) deletes and re-creates a person's itsme account (a new sub). A new itsme identity is held until it is attached
to an account (ITSME_UNKNOWN_IDENTITY_POLICY, default pending).</p>
<a class="button" href="/auth/itsme/login?returnTo=/api/me">Sign in with itsme (sandbox)</a>`;
const EHERKENNING = `<h2>eHerkenning (Signicat)</h2>
<p>eHerkenning is a local sandbox: pick an employee of an organisation (KvK number) instead of signing in with an
eHerkenning broker. A new eHerkenning identity is held until it is attached to an account
(SIGNICAT_EHERKENNING_UNKNOWN_IDENTITY_POLICY, default pending).</p>
<a class="button" href="/auth/signicat-eherkenning/login?returnTo=/api/me">Sign in with eHerkenning (sandbox)</a>`;

const FOOT = `<p>Signed in already? <a href="/api/me">/api/me</a> shows the account, its SERMI identifiers and the session.</p>
<script src="/sandbox/app.js"></script></body></html>`;

/** The page lists the providers that are enabled (only those have routes). */
function portalPage(config: AppConfig): string {
  return [
    HEAD,
    config.digidentity ? DIGIDENTITY : '',
    config.signicatIdin ? IDIN : '',
    config.itsme ? ITSME : '',
    config.signicatEherkenning ? EHERKENNING : '',
    FOOT,
  ].join('\n');
}

const SCRIPT = `const status = document.getElementById('status');
document.getElementById('start')?.addEventListener('click', async () => {
  status.textContent = 'Starting…';
  // A signed-in browser sends its session's CSRF token with every state-changing request, a login start too.
  const me = await fetch('/api/me');
  const csrf = me.ok ? { 'x-csrf-token': (await me.json()).csrfToken } : {};
  const response = await fetch('/auth/digidentity/passwordless', { method: 'POST', headers: { 'content-type': 'application/json', ...csrf }, body: '{"returnTo":"/api/me"}' });
  const login = await response.json();
  if (!response.ok) { status.textContent = 'Could not start: ' + login.code; return; }
  document.getElementById('qr').innerHTML = login.qrCodeSvg;
  const scan = document.getElementById('scan');
  scan.innerHTML = '';
  const link = document.createElement('a');
  link.href = login.qrCodeUri; link.target = '_blank'; link.textContent = 'No phone? Open the sandbox "app" to confirm';
  scan.appendChild(link);
  status.textContent = 'Waiting for the confirmation…';
  const poll = async () => {
    const answer = await (await fetch('/auth/digidentity/passwordless/' + login.id)).json();
    if (answer.status === 'pending') return setTimeout(poll, login.pollIntervalMs);
    if (answer.status === 'complete') { location.href = answer.returnTo; return; }
    status.textContent = answer.status === 'expired' ? 'The QR code expired; start again.' : 'Sign-in failed: ' + (answer.code || answer.status);
  };
  setTimeout(poll, login.pollIntervalMs);
});`;

/** A stand-in for the portal's sign-in page, served only while sandbox providers are active. */
@ApiExcludeController()
@Public()
@Controller('sandbox')
class SandboxPortalController {
  constructor(@InjectAppConfig() private readonly config: AppConfig) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return portalPage(this.config);
  }

  @Get('app.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return SCRIPT;
  }
}

@Module({ controllers: [SandboxPortalController] })
export class SandboxPortalModule {}
