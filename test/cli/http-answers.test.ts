// Answers that are not AWS's (a proxy's 407, a captive portal's HTML 403) and credential errors, through main():
// one clear line and exit 1, never "internal error: Unknown" (exit 70). A local HTTP server on 127.0.0.1 plays
// the AWS endpoint (the SDK's AWS_ENDPOINT_URL).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { RecordingReporter } from '../../src/core/reporter.js';

const root = path.resolve(import.meta.dirname, '../..');
const servers: http.Server[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function endpoint(status: number, headers: Record<string, string>, body: string): Promise<string> {
  const s = http.createServer((_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function statusCommand(env: Record<string, string>, args: string[] = []) {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  const reporter = new RecordingReporter(false);
  const code = await main(['status', 'twilio-relay', '--root', root, ...args], { reporter, env: process.env, signal: new AbortController().signal });
  return { code, errors: reporter.lines.filter((l) => l.level === 'error').map((l) => l.message) };
}

const keys = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_EC2_METADATA_DISABLED: 'true' };

describe('non-AWS HTTP answers', () => {
  it('a proxy answering 407 is one line that says so, exit 1', async () => {
    const url = await endpoint(407, { 'proxy-authenticate': 'Basic realm="corp"', 'content-type': 'text/html' }, '<html>login</html>');
    const r = await statusCommand({ ...keys, AWS_ENDPOINT_URL: url });
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/^a proxy between here and AWS asks for a login \(HTTP 407 Proxy Authentication Required, /);
    expect(r.errors.join('\n')).toMatch(/fix: put its credentials in HTTPS_PROXY/);
  });

  it('a captive portal answering an HTML 403 is one line naming the page, exit 1', async () => {
    const url = await endpoint(403, { 'content-type': 'text/html; charset=utf-8' }, '<html><title>Welcome</title>Log in to the hotel Wi-Fi</html>');
    const r = await statusCommand({ ...keys, AWS_ENDPOINT_URL: url });
    expect(r.code).toBe(1);
    expect(r.errors[0]).toMatch(/something other than AWS answered .*\(HTTP 403, an HTML page\): a proxy, a firewall or a captive portal/);
  });
});

describe('credential errors name the profile', () => {
  const noCredentials = {
    HOME: '/nonexistent-home',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_SESSION_TOKEN: '',
    AWS_WEB_IDENTITY_TOKEN_FILE: '',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
    AWS_CONTAINER_CREDENTIALS_FULL_URI: '',
  };
  it('AWS_PROFILE=nonexistent', async () => {
    const r = await statusCommand({ ...noCredentials, AWS_PROFILE: 'nonexistent' });
    expect(r.code).toBe(1);
    expect(r.errors[0]).toBe('no AWS credentials for profile "nonexistent" (from AWS_PROFILE)');
  });
  it('--profile wins over AWS_PROFILE, and no profile at all says so', async () => {
    expect((await statusCommand({ ...noCredentials, AWS_PROFILE: 'other' }, ['--profile', 'ci'])).errors[0]).toBe(
      'no AWS credentials for profile "ci" (from --profile)',
    );
    expect((await statusCommand({ ...noCredentials, AWS_PROFILE: '' })).errors[0]).toMatch(/^no AWS credentials: no profile is set/);
  });
});
