import { existsSync } from 'node:fs';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Connection settings that cannot be used: a missing profile or file, a malformed value, half a client certificate. */
export class ConnectionSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConnectionSettingsError';
  }
}

/** What every client and worker connection takes besides the address. */
export type ConnectionSecurity = Pick<NativeConnectionOptions, 'tls' | 'apiKey' | 'metadata'>;

/**
 * Where to reach Temporal and how, from `@temporalio/envconfig`: the profile TEMPORAL_PROFILE (default
 * `default`) of the TOML file TEMPORAL_CONFIG_FILE (default `~/.config/temporalio/temporal.toml`), overridden
 * by the standard variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
 * TEMPORAL_TLS_CLIENT_CERT_PATH|DATA, TEMPORAL_TLS_CLIENT_KEY_PATH|DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH|DATA,
 * TEMPORAL_TLS_SERVER_NAME, TEMPORAL_GRPC_META_*).
 */
export interface TemporalSettings {
  /** The cluster's address; undefined when neither a profile nor TEMPORAL_ADDRESS names one (the embedded dev server). */
  address?: string;
  namespace: string;
  security: ConnectionSecurity;
}

const BOOLEAN = /^(1|0|true|false)$/;
const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):\d{1,5}$/;

/** The connection settings of this process's environment (or of `env`); bad ones throw ConnectionSettingsError. */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  // An empty variable counts as unset (`TEMPORAL_ADDRESS= mlgym …`), except gRPC metadata, where it removes a header.
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && (e[1] !== '' || e[0].startsWith('TEMPORAL_GRPC_META_'))));
  for (const name of ['TEMPORAL_TLS', 'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION']) {
    if (vars[name] !== undefined && !BOOLEAN.test(vars[name])) throw new ConnectionSettingsError(`${name} expects 1, 0, true or false, got "${vars[name]}"`);
  }
  if (vars.TEMPORAL_CONFIG_FILE !== undefined && !existsSync(vars.TEMPORAL_CONFIG_FILE)) {
    throw new ConnectionSettingsError(`TEMPORAL_CONFIG_FILE names "${vars.TEMPORAL_CONFIG_FILE}", which does not exist`);
  }
  const profile = loadProfile(vars);
  if (profile.address !== undefined && !ADDRESS.test(profile.address)) throw new ConnectionSettingsError(`the Temporal address must be host:port, got "${profile.address}"`);
  if (profile.namespace !== undefined && !profile.namespace.trim()) throw new ConnectionSettingsError('the Temporal namespace is empty');
  const tls = profile.tls;
  if (tls && !tls.disabled && Boolean(tls.clientCert) !== Boolean(tls.clientKey)) {
    throw new ConnectionSettingsError(`a TLS client ${tls.clientCert ? 'certificate needs its key' : 'key needs its certificate'} (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or client_cert_path and client_key_path in the profile)`);
  }
  let options: ReturnType<typeof toClientOptions>;
  try {
    options = toClientOptions(profile);
  } catch (err) {
    throw new ConnectionSettingsError(`cannot read the TLS files of the Temporal connection settings: ${(err as Error).message}`);
  }
  const { tls: tlsConfig, apiKey, metadata } = options.connectionOptions;
  const security: ConnectionSecurity = { ...(tlsConfig == null ? {} : { tls: tlsConfig }), ...(apiKey ? { apiKey } : {}), ...(metadata && Object.keys(metadata).length ? { metadata } : {}) };
  return { ...(profile.address ? { address: profile.address } : {}), namespace: profile.namespace ?? 'default', security };
}

function loadProfile(vars: Record<string, string>): ClientConfigProfile {
  try {
    return loadClientConfigProfile({ overrideEnvVars: vars, configFileStrict: true });
  } catch (err) {
    const file = vars.TEMPORAL_CONFIG_FILE ?? '~/.config/temporalio/temporal.toml';
    throw new ConnectionSettingsError(`Temporal connection profile${vars.TEMPORAL_PROFILE ? ` "${vars.TEMPORAL_PROFILE}"` : ''} from ${file}: ${(err as Error).message}`);
  }
}

/** The options of Connection.connect and NativeConnection.connect for `address`, with this environment's TLS, API key and metadata. */
export function connectionOptions(address: string, env: NodeJS.ProcessEnv = process.env): ConnectionSecurity & { address: string } {
  return { address, ...temporalSettings(env).security };
}
