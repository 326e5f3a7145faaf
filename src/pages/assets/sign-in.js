// Digidentity's passwordless (QR) login on the sign-in page: start it, show the code and its expiry, poll until
// the person confirms in the app, then go where the login leads. Uses the backend's REST API only.
(() => {
  const box = document.getElementById('qr');
  const start = document.getElementById('qr-start');
  if (!box || !start) return;
  const status = document.getElementById('qr-status');
  const expiry = document.getElementById('qr-expiry');
  const code = document.getElementById('qr-code');
  const app = document.getElementById('qr-app');
  const { returnTo, csrf, errorUrl, pendingUrl } = box.dataset;
  let timers = [];
  const stop = () => {
    timers.forEach((t) => clearTimeout(t));
    timers = [];
  };
  const withCode = (base, failure) => {
    const url = new URL(base, location.href);
    url.searchParams.set('code', failure);
    return url.href;
  };
  const expired = () => {
    stop();
    code.replaceChildren();
    app.replaceChildren();
    expiry.textContent = '';
    status.textContent = 'The QR code has expired.';
    start.textContent = 'Show a new QR code';
    start.hidden = false;
    start.focus();
  };
  const showExpiry = (expiresAt) => {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    if (left === 0) return expired();
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, '0');
    expiry.textContent = `The code expires in ${minutes}:${seconds}.`;
    timers.push(setTimeout(() => showExpiry(expiresAt), 1000));
  };
  start.hidden = false;
  start.addEventListener('click', async () => {
    stop();
    start.hidden = true;
    status.textContent = 'Starting…';
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (csrf) headers['x-csrf-token'] = csrf;
    let login;
    try {
      const response = await fetch('/auth/digidentity/passwordless', {
        method: 'POST',
        headers,
        body: JSON.stringify(returnTo && returnTo !== '/' ? { returnTo } : {}),
      });
      login = await response.json();
      if (!response.ok) {
        location.href = withCode(errorUrl, login.code || 'provider_error');
        return;
      }
    } catch {
      status.textContent = 'The QR login could not be started. Check the connection and try again.';
      start.hidden = false;
      return;
    }
    // The SVG comes from our own backend (the qrcode library), not from the provider.
    const svg = new DOMParser().parseFromString(login.qrCodeSvg, 'image/svg+xml').documentElement;
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'QR code to scan with the Digidentity app');
    code.replaceChildren(document.importNode(svg, true));
    const open = document.createElement('a');
    open.href = login.qrCodeUri;
    open.target = '_blank';
    open.rel = 'noopener';
    open.textContent = 'No phone at hand? Open the confirmation page (new tab)';
    app.replaceChildren(open);
    status.textContent =
      'Scan the code with the Digidentity app and confirm with your PIN. Waiting for the confirmation…';
    showExpiry(new Date(login.expiresAt).getTime());
    const poll = async () => {
      let answer;
      try {
        const response = await fetch(`/auth/digidentity/passwordless/${encodeURIComponent(login.id)}`, {
          headers: { accept: 'application/json' },
        });
        answer = await response.json();
        if (!response.ok) answer = { status: 'failed', code: answer.code };
      } catch {
        timers.push(setTimeout(poll, login.pollIntervalMs));
        return;
      }
      if (answer.status === 'pending') {
        timers.push(setTimeout(poll, login.pollIntervalMs));
      } else if (answer.status === 'complete') {
        stop();
        status.textContent = 'Confirmed. Signing you in…';
        location.href = answer.returnTo;
      } else if (answer.status === 'expired') {
        expired();
      } else {
        stop();
        location.href =
          answer.code === 'identity_pending'
            ? withCode(pendingUrl, 'identity_pending')
            : withCode(errorUrl, answer.code);
      }
    };
    timers.push(setTimeout(poll, login.pollIntervalMs));
  });
})();
