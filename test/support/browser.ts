/**
 * A minimal browser for driving logins over real HTTP: a cookie jar per host, redirects followed by hand so tests
 * can stop at any hop (e.g. to replay a callback or deliver it to another browser or another app instance).
 */
export interface BrowserResponse {
  url: string;
  status: number;
  headers: Headers;
  location?: string;
  body: string;
  json<T = Record<string, unknown>>(): T;
}

export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host.replace(/^127\.0\.0\.1/, 'localhost');
    let cookies = this.jar.get(host);
    if (!cookies) this.jar.set(host, (cookies = new Map()));
    return cookies;
  }

  cookie(url: string, name: string): string | undefined {
    return this.cookies(url).get(name);
  }

  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; json?: unknown; headers?: Record<string, string> } = {},
  ): Promise<BrowserResponse> {
    const cookies = this.cookies(url);
    const headers: Record<string, string> = { ...init.headers };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(url, {
      method: init.method ?? (body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, ...value] = pair.split('=');
      const expired = attributes.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a) || /^\s*max-age=0/i.test(a));
      if (expired) cookies.delete(name.trim());
      else cookies.set(name.trim(), value.join('=').trim());
    }
    const text = await response.text();
    const location = response.headers.get('location') ?? undefined;
    return {
      url,
      status: response.status,
      headers: response.headers,
      location: location ? new URL(location, url).href : undefined,
      body: text,
      json: <T>() => JSON.parse(text) as T,
    };
  }

  /** Follows redirects from `url` until a response is not a redirect or `stop(url)` says so. */
  async follow(
    url: string,
    stop: (next: string) => boolean = () => false,
    init?: Parameters<Browser['request']>[1],
  ): Promise<BrowserResponse> {
    let response = await this.request(url, init);
    for (let hops = 0; response.location && response.status >= 300 && response.status < 400 && hops < 15; hops += 1) {
      if (stop(response.location)) return response;
      response = await this.request(response.location);
    }
    return response;
  }
}
