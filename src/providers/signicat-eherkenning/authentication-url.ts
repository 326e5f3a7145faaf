import { LoginFailure } from '../../common/problem/login-failure.js';

/**
 * Signicat's page may be on the API host or a sibling of it (api.signicat.com → *.signicat.com); with
 * SIGNICAT_EHERKENNING_AUTHENTICATION_HOSTS set (e.g. a custom domain), on exactly those hosts and nowhere else.
 */
function onSignicatHost(url: URL, baseUrl: URL, allowedHosts: readonly string[]): boolean {
  if (allowedHosts.length > 0) return allowedHosts.includes(url.host);
  if (url.host === baseUrl.host) return true;
  const parent = baseUrl.hostname.split('.').slice(1).join('.');
  return parent.includes('.') && !baseUrl.port && !url.port && url.hostname.endsWith(`.${parent}`);
}

/**
 * The `authenticationUrl` of a new Signicat session, before the browser is sent there: https (http only for the
 * sandbox or with OIDC_ALLOW_INSECURE_HTTP), no credentials, on the configured Signicat host.
 */
export function checkAuthenticationUrl(
  value: string,
  baseUrl: URL,
  allowHttp: boolean,
  allowedHosts: readonly string[] = [],
): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LoginFailure('provider_error', 'Signicat returned an authentication URL that is not a URL', {
      stage: 'create_session',
    });
  }
  const schemeOk = url.protocol === 'https:' || (url.protocol === 'http:' && allowHttp);
  if (!schemeOk || url.username || url.password || !onSignicatHost(url, baseUrl, allowedHosts)) {
    throw new LoginFailure('provider_misconfigured', 'Signicat returned an authentication URL off its own host', {
      stage: 'create_session',
      host: url.host.slice(0, 255),
      protocol: url.protocol.slice(0, 32),
    });
  }
  return url;
}
