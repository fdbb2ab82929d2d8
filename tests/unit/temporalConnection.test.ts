import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConnectionSettingsError, connectionOptions, temporalSettings } from '../../lib/temporal/connection.js';
import { mlgym } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'mlgym-conn-'));
const cert = join(dir, 'client.pem');
const key = join(dir, 'client.key');
writeFileSync(cert, 'CERTIFICATE BYTES');
writeFileSync(key, 'KEY BYTES');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const profiles = file(
  'temporal.toml',
  `[profile.default]
address = "temporal.internal:7233"
namespace = "research"

[profile.cloud]
address = "research.a1b2c.tmprl.cloud:7233"
namespace = "research.a1b2c"
[profile.cloud.tls]
client_cert_path = "${cert}"
client_key_path = "${key}"
server_name = "research.a1b2c.tmprl.cloud"

[profile.keyed]
address = "eu-west-1.aws.api.temporal.io:7233"
namespace = "research.a1b2c"
api_key = "profile-key"
`,
);

/** A clean environment: HOME without a config file, nothing TEMPORAL_* but `vars`. */
const env = (vars: Record<string, string> = {}) => ({ HOME: dir, ...vars });

describe('Temporal connection settings (envconfig)', () => {
  it('name no server without a profile or variables: the embedded dev server', () => {
    expect(temporalSettings(env())).toEqual({ namespace: 'default', security: {} });
  });

  it('read the default profile of TEMPORAL_CONFIG_FILE', () => {
    expect(temporalSettings(env({ TEMPORAL_CONFIG_FILE: profiles }))).toEqual({ address: 'temporal.internal:7233', namespace: 'research', security: {} });
  });

  it('read the default file ~/.config/temporalio/temporal.toml', () => {
    const home = mkdtempSync(join(tmpdir(), 'mlgym-home-'));
    const configDir = join(home, '.config', 'temporalio');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'temporal.toml'), '[profile.default]\naddress = "10.0.0.5:7233"\n');
    expect(temporalSettings({ HOME: home }).address).toBe('10.0.0.5:7233');
  });

  it('take mTLS from a profile chosen by TEMPORAL_PROFILE: client certificate pair and server name', () => {
    const s = temporalSettings(env({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'cloud' }));
    expect(s.address).toBe('research.a1b2c.tmprl.cloud:7233');
    expect(s.namespace).toBe('research.a1b2c');
    const tls = s.security.tls as { clientCertPair: { crt: Uint8Array; key: Uint8Array }; serverNameOverride: string };
    expect(Buffer.from(tls.clientCertPair.crt).toString()).toBe('CERTIFICATE BYTES');
    expect(Buffer.from(tls.clientCertPair.key).toString()).toBe('KEY BYTES');
    expect(tls.serverNameOverride).toBe('research.a1b2c.tmprl.cloud');
  });

  it('turn TLS on for an API key, unless TEMPORAL_TLS=0', () => {
    const keyed = temporalSettings(env({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'keyed' }));
    expect(keyed.security).toEqual({ apiKey: 'profile-key', tls: true });
    const plain = temporalSettings(env({ TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: '0' }));
    expect(plain.security).toEqual({ apiKey: 'k', tls: false });
  });

  it('let the standard variables override the profile', () => {
    const s = temporalSettings(
      env({
        TEMPORAL_CONFIG_FILE: profiles,
        TEMPORAL_PROFILE: 'keyed',
        TEMPORAL_ADDRESS: 'other.example:443',
        TEMPORAL_NAMESPACE: 'prod',
        TEMPORAL_API_KEY: 'env-key',
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
        TEMPORAL_GRPC_META_X_TEAM: 'ml',
      }),
    );
    expect(s.address).toBe('other.example:443');
    expect(s.namespace).toBe('prod');
    expect(s.security.apiKey).toBe('env-key');
    expect(Buffer.from((s.security.tls as { clientCertPair: { crt: Uint8Array } }).clientCertPair.crt).toString()).toBe('CERTIFICATE BYTES');
    expect(s.security.metadata).toEqual({ 'x-team': 'ml' });
    expect(connectionOptions('other.example:443', env({ TEMPORAL_API_KEY: 'env-key' }))).toEqual({ address: 'other.example:443', apiKey: 'env-key', tls: true });
  });

  it('count an empty variable as unset', () => {
    expect(temporalSettings(env({ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '' }))).toMatchObject({ address: 'temporal.internal:7233', namespace: 'research' });
  });

  it.each([
    [{ TEMPORAL_CONFIG_FILE: profiles, TEMPORAL_PROFILE: 'staging' }, /profile "staging".*Profile 'staging' not found/],
    [{ TEMPORAL_CONFIG_FILE: join(dir, 'missing.toml') }, /TEMPORAL_CONFIG_FILE names ".*missing.toml", which does not exist/],
    [{ TEMPORAL_CONFIG_FILE: file('broken.toml', '[profile.default\naddress = 1') }, /Temporal connection profile from .*broken.toml/],
    [{ TEMPORAL_CONFIG_FILE: file('typo.toml', '[profile.default]\nadress = "a:1"\n') }, /unrecognized in profile.default: adress/],
    [{ TEMPORAL_TLS: 'yes' }, /TEMPORAL_TLS expects 1, 0, true or false, got "yes"/],
    [{ TEMPORAL_ADDRESS: 'temporal.internal' }, /address must be host:port, got "temporal.internal"/],
    [{ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TLS_CLIENT_CERT_PATH: cert }, /TLS client certificate needs its key/],
    [{ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TLS_CLIENT_KEY_PATH: key }, /TLS client key needs its certificate/],
    [{ TEMPORAL_ADDRESS: 'a:1', TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'nope.pem'), TEMPORAL_TLS_CLIENT_KEY_PATH: key }, /cannot read the TLS files.*nope.pem/],
  ])('refuse bad settings with a clear error: %j', (vars, message) => {
    expect(() => temporalSettings(env(vars))).toThrow(ConnectionSettingsError);
    expect(() => temporalSettings(env(vars))).toThrow(message);
  });

  it('make the CLI exit 2 with the reason, before it connects anywhere', async () => {
    const result = await mlgym({ TEMPORAL_ADDRESS: '127.0.0.1:1', TEMPORAL_TLS: 'maybe' }, 'status', 'some-run', '--json');
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout).error).toMatch(/TEMPORAL_TLS expects 1, 0, true or false, got "maybe"/);
  });
});
