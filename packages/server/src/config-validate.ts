/**
 * A hand-rolled validator for `flowgate.config.*`: it collects every problem with the path of the
 * offending field and a message that says what to do, then throws one `InvalidConfigError`.
 * Secrets are resolved from the environment here, so a missing variable fails before listening.
 */
import type { Plugin } from '@flowgate/core';
import {
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  type DeploymentConfig,
  type LimitsConfig,
  type ProviderConfig,
} from './config.js';
import { InvalidConfigError } from './errors.js';
import type { PluginSource } from './plugin-registry.js';

export interface ValidProvider extends ProviderConfig {
  /** Read from `apiKeyEnv`; never logged, never sent anywhere but to this provider. */
  apiKey?: string;
}

export interface ValidTelemetry {
  serviceName?: string;
  traces: false | { endpoint?: string };
  metrics: boolean;
}

/** A plugin entry once checked: a ready plugin object, or where to load a factory from. */
export type ValidPluginEntry =
  | { kind: 'object'; path: string; plugin: Plugin }
  | { kind: 'load'; path: string; name: string; source: PluginSource; options: Record<string, unknown> };

export interface ValidConfig {
  port: number;
  host: string;
  providers: ValidProvider[];
  aliases: Record<string, DeploymentConfig[]>;
  /** Gateway key -> tenant; empty = open gateway. */
  keys: Map<string, string>;
  limits: Required<LimitsConfig>;
  telemetry: ValidTelemetry | false;
  plugins: ValidPluginEntry[];
}

export interface ValidateOptions {
  env: Record<string, string | undefined>;
  registry: Readonly<Record<string, PluginSource>>;
  /** Shown in the error message (the config file). */
  source?: string;
}

type Obj = Record<string, unknown>;
interface Issue {
  path: string;
  message: string;
}

const PROVIDER_TYPES = ['openai', 'anthropic', 'mock'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'proxy-authorization']);

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `"${v}"` : typeof v;

/** Levenshtein distance, for "did you mean" on misspelled field names. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function suggest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best ? ` (did you mean "${best}"?)` : '';
}

class Checker {
  readonly issues: Issue[] = [];

  constructor(private readonly env: Record<string, string | undefined>) {}

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  object(v: unknown, path: string): Obj | undefined {
    if (isObj(v)) return v;
    this.add(path, `must be an object, got ${describe(v)}`);
    return undefined;
  }

  knownKeys(o: Obj, path: string, known: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.add(join(path, k), `unknown field${suggest(k, known)}`);
    }
  }

  string(o: Obj, key: string, path: string, required = false): string | undefined {
    const v = o[key];
    if (v === undefined) {
      if (required) this.add(join(path, key), 'is required (a non-empty string)');
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0) {
      this.add(join(path, key), `must be a non-empty string, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  integer(o: Obj, key: string, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.add(join(path, key), `must be an integer from ${min} to ${max}, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  number(o: Obj, key: string, path: string, min: number): number | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      this.add(join(path, key), `must be a number >= ${min}, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  boolean(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.add(join(path, key), `must be true or false, got ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  strings(o: Obj, key: string, path: string): string[] | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s.length === 0)) {
      this.add(join(path, key), 'must be an array of non-empty strings');
      return undefined;
    }
    return v as string[];
  }

  url(o: Obj, key: string, path: string): string | undefined {
    const s = this.string(o, key, path);
    if (s === undefined) return undefined;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      this.add(join(path, key), `is not a valid URL: "${s}"`);
      return undefined;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.add(join(path, key), `must be an http:// or https:// URL, got "${s}"`);
      return undefined;
    }
    if (u.username || u.password) {
      this.add(join(path, key), 'must not carry credentials; put the key in an environment variable');
      return undefined;
    }
    return s;
  }

  /** Reads a secret from the environment variable named by `o[key]`. */
  secret(o: Obj, key: string, path: string, what: string): string | undefined {
    const name = this.string(o, key, path);
    if (name === undefined) return undefined;
    if (!ENV_NAME.test(name)) {
      this.add(join(path, key), `must be the name of an environment variable (like OPENAI_API_KEY), got "${name}"`);
      return undefined;
    }
    const value = this.env[name];
    if (value === undefined || value === '') {
      this.add(join(path, key), `environment variable ${name} is not set (it holds ${what})`);
      return undefined;
    }
    return value;
  }
}

const join = (path: string, key: string): string => (path ? `${path}.${key}` : key);

const ROOT_KEYS = ['port', 'host', 'providers', 'aliases', 'keys', 'limits', 'telemetry', 'plugins'];
const PROVIDER_KEYS = [
  'id',
  'type',
  'baseURL',
  'apiKeyEnv',
  'models',
  'headers',
  'organization',
  'project',
  'version',
  'defaultMaxTokens',
  'mock',
];

function validateProvider(c: Checker, raw: unknown, path: string, ids: Set<string>): ValidProvider | undefined {
  const o = c.object(raw, path);
  if (!o) return undefined;
  const before = c.issues.length;
  c.knownKeys(
    o,
    path,
    'apiKey' in o ? PROVIDER_KEYS.concat('apiKey') : PROVIDER_KEYS, // `apiKey` gets its own message
  );
  if ('apiKey' in o) {
    c.add(
      join(path, 'apiKey'),
      'secrets are read from environment variables only: set `apiKeyEnv` to the variable name',
    );
  }
  const id = c.string(o, 'id', path, true);
  if (id !== undefined) {
    if (ids.has(id)) c.add(join(path, 'id'), `duplicate provider id "${id}"`);
    ids.add(id);
  }
  const type = o.type;
  if (typeof type !== 'string' || !(PROVIDER_TYPES as readonly string[]).includes(type)) {
    c.add(
      join(path, 'type'),
      `unknown provider type ${describe(type)} (expected one of ${PROVIDER_TYPES.join(', ')})${
        typeof type === 'string' ? suggest(type, PROVIDER_TYPES) : ''
      }`,
    );
  }
  const baseURL = c.url(o, 'baseURL', path);
  const apiKey = 'apiKeyEnv' in o ? c.secret(o, 'apiKeyEnv', path, "this provider's API key") : undefined;
  const models = c.strings(o, 'models', path);
  if (o.headers !== undefined) {
    const h = c.object(o.headers, join(path, 'headers'));
    if (h) {
      for (const [k, v] of Object.entries(h)) {
        if (typeof v !== 'string') c.add(join(path, `headers.${k}`), `must be a string, got ${describe(v)}`);
        if (SECRET_HEADERS.has(k.toLowerCase())) {
          c.add(join(path, `headers.${k}`), 'secrets are read from environment variables only: use `apiKeyEnv`');
        }
      }
    }
  }
  c.string(o, 'organization', path);
  c.string(o, 'project', path);
  c.string(o, 'version', path);
  c.integer(o, 'defaultMaxTokens', path, 1);
  if (o.mock !== undefined) {
    if (type !== 'mock') c.add(join(path, 'mock'), 'is only for providers of type "mock"');
    const m = c.object(o.mock, join(path, 'mock'));
    if (m) {
      const mp = join(path, 'mock');
      c.knownKeys(m, mp, ['latencyMs', 'ttftMs', 'tokensPerSecond', 'text']);
      c.number(m, 'latencyMs', mp, 0);
      c.number(m, 'ttftMs', mp, 0);
      c.number(m, 'tokensPerSecond', mp, 0);
      c.string(m, 'text', mp);
    }
  }
  if (c.issues.length !== before) return undefined;
  const p = { ...(o as unknown as ProviderConfig) } as ValidProvider;
  if (baseURL !== undefined) p.baseURL = baseURL;
  if (apiKey !== undefined) p.apiKey = apiKey;
  if (models !== undefined) p.models = models;
  return p;
}

function validateAliases(c: Checker, raw: unknown, ids: Set<string>): Record<string, DeploymentConfig[]> {
  const out: Record<string, DeploymentConfig[]> = {};
  if (raw === undefined) return out;
  const o = c.object(raw, 'aliases');
  if (!o) return out;
  for (const [alias, list] of Object.entries(o)) {
    const path = `aliases.${alias}`;
    if (!Array.isArray(list) || list.length === 0) {
      c.add(path, 'must be a non-empty array of deployments { provider, model }');
      continue;
    }
    const deployments: DeploymentConfig[] = [];
    list.forEach((d: unknown, i: number) => {
      const dp = `${path}[${i}]`;
      const dobj = c.object(d, dp);
      if (!dobj) return;
      c.knownKeys(dobj, dp, ['provider', 'model', 'weight', 'priority', 'tags', 'contextWindow', 'price', 'key']);
      const provider = c.string(dobj, 'provider', dp, true);
      if (provider !== undefined && !ids.has(provider)) {
        c.add(join(dp, 'provider'), `unknown provider "${provider}"${suggest(provider, [...ids])}`);
      }
      const model = c.string(dobj, 'model', dp, true);
      c.number(dobj, 'weight', dp, 0);
      c.number(dobj, 'priority', dp, Number.NEGATIVE_INFINITY);
      c.strings(dobj, 'tags', dp);
      c.integer(dobj, 'contextWindow', dp, 1);
      c.string(dobj, 'key', dp);
      if (dobj.price !== undefined) c.object(dobj.price, join(dp, 'price'));
      if (provider !== undefined && model !== undefined) deployments.push(dobj as unknown as DeploymentConfig);
    });
    out[alias] = deployments;
  }
  return out;
}

function validateKeys(c: Checker, raw: unknown): Map<string, string> {
  const keys = new Map<string, string>();
  if (raw === undefined) return keys;
  if (!Array.isArray(raw)) {
    c.add('keys', 'must be an array of { keyEnv | key, tenant }');
    return keys;
  }
  raw.forEach((k: unknown, i: number) => {
    const path = `keys[${i}]`;
    const o = c.object(k, path);
    if (!o) return;
    c.knownKeys(o, path, ['keyEnv', 'key', 'tenant']);
    const tenant = c.string(o, 'tenant', path, true);
    if ((o.keyEnv === undefined) === (o.key === undefined)) {
      c.add(path, 'give exactly one of `keyEnv` (the environment variable holding the key) or `key`');
      return;
    }
    const key =
      o.keyEnv !== undefined
        ? c.secret(o, 'keyEnv', path, `the gateway key of tenant "${tenant}"`)
        : c.string(o, 'key', path);
    if (key === undefined || tenant === undefined) return;
    if (keys.has(key)) c.add(path, 'the same key is listed twice');
    keys.set(key, tenant);
  });
  return keys;
}

function validateLimits(c: Checker, raw: unknown): Required<LimitsConfig> {
  const limits = { ...DEFAULT_LIMITS };
  if (raw === undefined) return limits;
  const o = c.object(raw, 'limits');
  if (!o) return limits;
  c.knownKeys(o, 'limits', Object.keys(DEFAULT_LIMITS));
  limits.maxBodyBytes = c.integer(o, 'maxBodyBytes', 'limits', 1) ?? limits.maxBodyBytes;
  limits.maxConcurrent = c.integer(o, 'maxConcurrent', 'limits', 1) ?? limits.maxConcurrent;
  limits.requestTimeoutMs = c.integer(o, 'requestTimeoutMs', 'limits', 1) ?? limits.requestTimeoutMs;
  limits.drainTimeoutMs = c.integer(o, 'drainTimeoutMs', 'limits', 0) ?? limits.drainTimeoutMs;
  return limits;
}

function validateTelemetry(c: Checker, raw: unknown, env: Record<string, string | undefined>): ValidTelemetry | false {
  if (raw === false) return false;
  const endpointFromEnv = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const t: ValidTelemetry = { traces: endpointFromEnv ? {} : false, metrics: true };
  if (raw === undefined) return t;
  const o = c.object(raw, 'telemetry');
  if (!o) return t;
  c.knownKeys(o, 'telemetry', ['serviceName', 'traces', 'metrics']);
  const serviceName = c.string(o, 'serviceName', 'telemetry');
  if (serviceName !== undefined) t.serviceName = serviceName;
  t.metrics = c.boolean(o, 'metrics', 'telemetry') ?? true;
  if (typeof o.traces === 'boolean') t.traces = o.traces ? {} : false;
  else if (o.traces !== undefined) {
    const tr = c.object(o.traces, 'telemetry.traces');
    if (tr) {
      c.knownKeys(tr, 'telemetry.traces', ['endpoint']);
      const endpoint = c.url(tr, 'endpoint', 'telemetry.traces');
      if (endpoint !== undefined) t.traces = { endpoint };
    }
  }
  return t;
}

function isPluginObject(v: unknown): v is Plugin {
  return isObj(v) && typeof v.setup === 'function' && typeof v.name === 'string';
}

function validatePlugins(
  c: Checker,
  raw: unknown,
  registry: Readonly<Record<string, PluginSource>>,
): ValidPluginEntry[] {
  const out: ValidPluginEntry[] = [];
  if (raw === undefined) return out;
  if (!Array.isArray(raw)) {
    c.add('plugins', "must be an array of { name, options } (e.g. [{ name: 'cache' }])");
    return out;
  }
  const names = new Set<string>();
  const known = Object.keys(registry);
  raw.forEach((entry: unknown, i: number) => {
    const path = `plugins[${i}]`;
    if (isPluginObject(entry)) {
      if (names.has(entry.name)) c.add(path, `plugin "${entry.name}" is listed twice`);
      names.add(entry.name);
      out.push({ kind: 'object', path, plugin: entry });
      return;
    }
    const o = c.object(entry, path);
    if (!o) return;
    c.knownKeys(o, path, ['name', 'options', 'module', 'export']);
    const name = c.string(o, 'name', path, true);
    const module = c.string(o, 'module', path);
    const exportName = c.string(o, 'export', path);
    let options: Record<string, unknown> = {};
    if (o.options !== undefined) options = c.object(o.options, join(path, 'options')) ?? {};
    if (name === undefined) return;
    if (names.has(name)) c.add(join(path, 'name'), `plugin "${name}" is listed twice`);
    names.add(name);
    const builtIn = registry[name];
    if (module === undefined && !builtIn) {
      c.add(
        join(path, 'name'),
        `unknown plugin "${name}"${suggest(name, known)} (known: ${known.join(', ')}; or give \`module\` and \`export\`)`,
      );
      return;
    }
    const source: PluginSource = {
      module: module ?? builtIn!.module,
      export: exportName ?? (module === undefined ? builtIn!.export : (builtIn?.export ?? 'default')),
    };
    out.push({ kind: 'load', path, name, source, options });
  });
  return out;
}

/** Checks a raw config object and resolves its secrets; throws `InvalidConfigError` listing every problem. */
export function validateConfig(raw: unknown, options: ValidateOptions): ValidConfig {
  const c = new Checker(options.env);
  const root = c.object(raw, '(config)');
  if (!root) throw new InvalidConfigError(c.issues, options.source);
  c.knownKeys(root, '', ROOT_KEYS);
  const port = c.integer(root, 'port', '', 0, 65_535) ?? DEFAULT_PORT;
  const host = c.string(root, 'host', '') ?? DEFAULT_HOST;

  const ids = new Set<string>();
  const providers: ValidProvider[] = [];
  if (!Array.isArray(root.providers) || root.providers.length === 0) {
    c.add('providers', 'is required: a non-empty array of { id, type, baseURL?, apiKeyEnv?, models? }');
  } else {
    root.providers.forEach((p: unknown, i: number) => {
      const v = validateProvider(c, p, `providers[${i}]`, ids);
      if (v) providers.push(v);
    });
  }
  const aliases = validateAliases(c, root.aliases, ids);
  const keys = validateKeys(c, root.keys);
  const limits = validateLimits(c, root.limits);
  const telemetry = validateTelemetry(c, root.telemetry, options.env);
  const plugins = validatePlugins(c, root.plugins, options.registry);
  if (c.issues.length > 0) throw new InvalidConfigError(c.issues, options.source);
  return { port, host, providers, aliases, keys, limits, telemetry, plugins };
}
