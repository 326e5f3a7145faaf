import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/app/app.config.js';
import { PROJECT_ROOT } from '../support/spawn-process.js';

const manifest = readFileSync(join(PROJECT_ROOT, 'deploy', 'kubernetes', 'rmi-identity-backend.yaml'), 'utf8');

/** The settings of the ConfigMap's `data` and the Secret's `stringData` (two-space indented `NAME: value` lines). */
function settings(kind: 'ConfigMap' | 'Secret'): Record<string, string> {
  const document = manifest.split(/^---$/m).find((part) => new RegExp(`^kind: ${kind}$`, 'm').test(part)) ?? '';
  return Object.fromEntries(
    [...document.matchAll(/^ {2}([A-Z][A-Z0-9_]*): (.*)$/gm)].map(([, name, value]) => [
      name,
      value.replace(/^'(.*)'$/, '$1'),
    ]),
  );
}

describe('the Kubernetes example (deploy/kubernetes)', () => {
  it('only sets variables the app reads, and they make a valid production configuration', () => {
    const known = new Set(
      readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8')
        .split('\n')
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => line.split('=')[0]),
    );
    const shared = settings('ConfigMap');
    const secrets = settings('Secret');
    expect(Object.keys(shared).length).toBeGreaterThan(10);
    expect([...Object.keys(shared), ...Object.keys(secrets)].filter((name) => !known.has(name))).toEqual([]);
    // The shared keys every instance must have are in the Secret.
    expect(Object.keys(secrets)).toEqual(expect.arrayContaining(['SERMI_GRANT_SIGNING_KEY', 'LOGIN_BINDING_KEY']));

    const grantKey = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const config = loadConfig({ ...shared, ...secrets, SERMI_GRANT_SIGNING_KEY: grantKey });
    expect(config.env).toBe('production');
    expect(config.operations.metrics).toMatchObject({ host: '0.0.0.0', token: secrets.METRICS_TOKEN });
    // The probes and the shutdown fit together: the app finishes within the pod's grace period.
    const grace = Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]);
    expect(config.http.shutdownTimeoutMs / 1000 + 5).toBeLessThan(grace);
    expect(manifest).toMatch(/readinessProbe:\s+httpGet: \{ path: \/ready/);
    expect(manifest).toMatch(/livenessProbe:\s+httpGet: \{ path: \/health/);
  });
});
