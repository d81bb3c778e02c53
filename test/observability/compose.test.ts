/**
 * examples/observability as files: the compose file, Prometheus config, Grafana provisioning and
 * dashboard, and the gateway config parse, and refer to each other correctly (mounted paths exist,
 * data source UIDs resolve, the scrape target is the gateway's port, the services' URLs match).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidConfigError, prepareConfig } from '@flowgate/server';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_FILE, ENV, EXAMPLE_DIR } from './gateway.test-util.js';

const read = (file: string) => readFileSync(join(EXAMPLE_DIR, file), 'utf8');
const yamlFile = (file: string): unknown => parse(read(file), { strict: true, uniqueKeys: true });

interface Service {
  image?: string;
  ports?: string[];
  volumes?: string[];
  extra_hosts?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
}
const compose = yamlFile('docker-compose.yml') as { services: Record<string, Service> };
const prometheus = yamlFile('prometheus.yml') as {
  global: { scrape_interval: string };
  scrape_configs: {
    job_name: string;
    metrics_path?: string;
    fallback_scrape_protocol?: string;
    static_configs: { targets: string[] }[];
  }[];
};
const datasources = yamlFile('grafana/provisioning/datasources/datasources.yml') as {
  apiVersion: number;
  datasources: {
    name: string;
    type: string;
    uid: string;
    url: string;
    access: string;
    jsonData?: { timeInterval?: string };
  }[];
};
const providers = yamlFile('grafana/provisioning/dashboards/dashboards.yml') as {
  apiVersion: number;
  providers: { name: string; type: string; options: { path: string } }[];
};
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}
const dashboard = JSON.parse(read('grafana/dashboards/flowgate.json')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; datasource?: { type: string; uid: string } }[] };
};
const gatewayConfig = JSON.parse(readFileSync(CONFIG_FILE, 'utf8')) as {
  port: number;
  host: string;
  telemetry?: { metrics?: boolean } | false;
  plugins: { name: string }[];
  keys: { keyEnv: string; tenant: string }[];
};

/** `[host_ip:]host_port:container_port[/proto]` -> container port. */
const containerPort = (p: string) => Number(p.split('/')[0]!.split(':').at(-1));
/** `./host:/container[:ro]` -> { host, container }. */
const mount = (v: string) => {
  const [host, container] = v.split(':');
  return { host: host!, container: container! };
};
/** The host path mounted at a container path (or below a mounted directory), if any. */
function hostPathOf(service: Service, containerPath: string): string | undefined {
  for (const v of service.volumes ?? []) {
    const { host, container } = mount(v);
    if (containerPath === container) return join(EXAMPLE_DIR, host);
    if (containerPath.startsWith(`${container}/`))
      return join(EXAMPLE_DIR, host, containerPath.slice(container.length));
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  it('runs Jaeger v2, Prometheus and Grafana from pinned images', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['grafana', 'jaeger', 'prometheus']);
    expect(compose.services.jaeger!.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(compose.services.prometheus!.image).toMatch(/^prom\/prometheus:v3\.\d+\.\d+$/);
    expect(compose.services.grafana!.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('publishes the OTLP ports, the Jaeger UI, Prometheus and Grafana on localhost', () => {
    const ports = (s: string) => (compose.services[s]!.ports ?? []).map(containerPort).sort((a, b) => a - b);
    expect(ports('jaeger')).toEqual([4317, 4318, 16686]);
    expect(ports('prometheus')).toEqual([9090]);
    expect(ports('grafana')).toEqual([3000]);
    for (const s of Object.values(compose.services)) {
      for (const p of s.ports ?? []) expect(p.startsWith('127.0.0.1:'), p).toBe(true);
    }
  });

  it('mounts files and directories that exist', () => {
    let mounts = 0;
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const { host, container } = mount(v);
        expect(host.startsWith('./'), `${name}: ${v} is a path of the example`).toBe(true);
        expect(existsSync(join(EXAMPLE_DIR, host)), `${name}: ${host} exists`).toBe(true);
        expect(posix.isAbsolute(container), `${name}: ${container}`).toBe(true);
        mounts++;
      }
    }
    expect(mounts).toBe(3);
    expect(statSync(hostPathOf(compose.services.prometheus!, '/etc/prometheus/prometheus.yml')!).isFile()).toBe(true);
    expect(
      statSync(hostPathOf(compose.services.grafana!, '/etc/grafana/provisioning/datasources')!).isDirectory(),
    ).toBe(true);
    expect(statSync(hostPathOf(compose.services.grafana!, '/etc/grafana/provisioning/dashboards')!).isDirectory()).toBe(
      true,
    );
  });

  it('lets Prometheus reach the gateway on the host', () => {
    expect(compose.services.prometheus!.extra_hosts).toContain('host.docker.internal:host-gateway');
  });

  it('opens Grafana on the flowgate dashboard', () => {
    const env = compose.services.grafana!.environment!;
    const home = hostPathOf(compose.services.grafana!, env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!);
    expect(home).toBe(join(EXAMPLE_DIR, 'grafana/dashboards/flowgate.json'));
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(compose.services.grafana!.depends_on).toEqual(expect.arrayContaining(['prometheus', 'jaeger']));
  });
});

describe('prometheus.yml', () => {
  const job = prometheus.scrape_configs.find((j) => j.job_name === 'flowgate')!;

  it('scrapes the gateway /metrics at the port of flowgate.config.json', () => {
    expect(job.metrics_path).toBe('/metrics');
    expect(job.static_configs.flatMap((c) => c.targets)).toEqual([`host.docker.internal:${gatewayConfig.port}`]);
    expect(['PrometheusText0.0.4', 'PrometheusText1.0.0', 'OpenMetricsText1.0.0']).toContain(
      job.fallback_scrape_protocol,
    );
  });

  it("matches Grafana's idea of the scrape interval", () => {
    expect(prometheus.global.scrape_interval).toMatch(/^\d+s$/);
    const ds = datasources.datasources.find((d) => d.type === 'prometheus')!;
    expect(ds.jsonData?.timeInterval).toBe(prometheus.global.scrape_interval);
  });
});

describe('Grafana provisioning', () => {
  it('declares a Prometheus and a Jaeger data source at the compose services', () => {
    expect(datasources.apiVersion).toBe(1);
    const uids = datasources.datasources.map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    const byType = new Map(datasources.datasources.map((d) => [d.type, d]));
    expect([...byType.keys()].sort()).toEqual(['jaeger', 'prometheus']);
    for (const [type, service, port] of [
      ['prometheus', 'prometheus', 9090],
      ['jaeger', 'jaeger', 16686],
    ] as const) {
      const url = new URL(byType.get(type)!.url);
      expect(url.hostname).toBe(service);
      expect(Number(url.port)).toBe(port);
      expect((compose.services[service]!.ports ?? []).map(containerPort)).toContain(port);
      expect(byType.get(type)!.access).toBe('proxy');
    }
  });

  it('loads dashboards from the mounted directory', () => {
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers).toHaveLength(1);
    const p = providers.providers[0]!;
    expect(p.type).toBe('file');
    const dir = hostPathOf(compose.services.grafana!, p.options.path);
    expect(dir).toBe(join(EXAMPLE_DIR, 'grafana/dashboards'));
    expect(existsSync(join(dir!, 'flowgate.json'))).toBe(true);
  });
});

describe('grafana/dashboards/flowgate.json', () => {
  const all: Panel[] = [];
  const walk = (ps: Panel[]) => {
    for (const p of ps) {
      all.push(p);
      walk(p.panels ?? []);
    }
  };
  walk(dashboard.panels);
  const known = new Map(datasources.datasources.map((d) => [d.uid, d.type]));

  it('has a uid, a title and unique panel ids', () => {
    expect(dashboard.uid).toBe('flowgate');
    expect(dashboard.title).toBe('flowgate');
    const ids = all.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refers only to provisioned data sources, with their types', () => {
    const refs: { uid: string; type: string }[] = [];
    for (const p of all) {
      if (p.datasource) refs.push(p.datasource);
      for (const t of p.targets ?? []) if (t.datasource) refs.push(t.datasource);
      if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    for (const v of dashboard.templating.list) if (v.datasource) refs.push(v.datasource);
    expect(refs.length).toBeGreaterThan(40);
    for (const r of refs) expect(known.get(r.uid), `data source ${r.uid}`).toBe(r.type);
    expect(new Set(refs.map((r) => r.type))).toEqual(new Set(['prometheus', 'jaeger']));
  });

  it('lays the panels out on the 24-column grid without overlaps', () => {
    const cells = new Set<string>();
    for (const p of all) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${p.title} ${JSON.stringify(p.gridPos)}`).toBe(true);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const cell = `${i},${j}`;
          expect(cells.has(cell), `${p.title} overlaps at ${cell}`).toBe(false);
          cells.add(cell);
        }
      }
    }
  });

  it('covers every view the example promises', () => {
    const titles = all.map((p) => p.title.toLowerCase()).join(' | ');
    for (const words of [
      'latency per model and provider',
      'time to first token per model and provider',
      'throughput',
      'error rate by error type',
      'cache hit rate: exact and semantic',
      'cost per model',
      'cost per tenant',
      'budget',
      'circuit breakers',
      'fallbacks and retries',
      'pool connections',
      'gc pauses',
      'heap',
      'event-loop delay',
      'traces',
    ]) {
      expect(titles).toContain(words);
    }
  });
});

describe('flowgate.config.json', () => {
  it('is a valid gateway config whose plugins all load', async () => {
    const prepared = await prepareConfig({ configPath: CONFIG_FILE, env: ENV });
    expect(prepared.plugins.map((p) => (p.kind === 'factory' ? p.name : p.plugin.name))).toEqual([
      'profiler',
      'token-optimizer',
      'cache',
      'semantic-cache',
      'router',
      'pool',
    ]);
    expect(prepared.config.telemetry).not.toBe(false);
  });

  it('listens where Prometheus in a container can reach it, with metrics on', () => {
    expect(gatewayConfig.host).toBe('0.0.0.0');
    expect(gatewayConfig.telemetry === false || gatewayConfig.telemetry?.metrics === false).toBe(false);
  });

  it('says which key variables are missing', async () => {
    const err = await prepareConfig({ configPath: CONFIG_FILE, env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidConfigError);
    expect(String((err as Error).message)).toContain('FLOWGATE_KEY_ACME');
    expect(gatewayConfig.keys.map((k) => k.keyEnv)).toEqual(['FLOWGATE_KEY_ACME', 'FLOWGATE_KEY_GLOBEX']);
  });
});

describe('README.md', () => {
  const readme = read('README.md');

  it('walks from docker compose up to the gateway, Jaeger and Grafana', () => {
    for (const step of [
      'docker compose up',
      'flowgate.config.json',
      'OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318',
      'http://localhost:16686',
      'http://localhost:3000',
      '/dashboard',
      ...gatewayConfig.keys.map((k) => k.keyEnv),
    ]) {
      expect(readme).toContain(step);
    }
  });

  it('shows a screenshot of /dashboard that exists', () => {
    expect(readme).toMatch(/!\[[^\]]*\]\(dashboard\.png\)/);
    const png = readFileSync(join(EXAMPLE_DIR, 'dashboard.png'));
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });
});
