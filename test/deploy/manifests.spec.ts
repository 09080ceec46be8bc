import { OPERATOR_CLUSTER, operatorResources } from '@app/messaging';
import { CONFIG_VARIABLES } from '@app/platform';
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { SERVICE_NODE_FLAGS } from '../support/build.js';

const root = join(import.meta.dirname, '..', '..');
const SERVICES = { orders: 3000, users: 3001, inventory: 3002, email: 3003 } as const;
const known = new Set<string>(CONFIG_VARIABLES);
const mebibytes = (quantity: string) =>
  Number(/^(\d+)Mi$/.exec(quantity)?.[1] ?? /^(\d+)Gi$/.exec(quantity)?.[1] ?? NaN) *
  (quantity.endsWith('Gi') ? 1024 : 1);

interface Container {
  image: string;
  ports: { containerPort: number }[];
  env?: { name: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  livenessProbe: { httpGet: { path: string } };
  readinessProbe: { httpGet: { path: string } };
}
interface Manifest {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    template?: { spec: { containers: Container[] } };
    ports?: { port: number }[];
    type?: string;
  };
}

describe('deploy/k8s, rendered with kubectl kustomize', () => {
  const manifests = parseAllDocuments(
    execFileSync('kubectl', ['kustomize', join(root, 'deploy', 'k8s')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ).map((document) => document.toJSON() as Manifest);
  const of = (kind: string, name?: string) =>
    manifests.filter((m) => m.kind === kind && (!name || m.metadata.name === name));

  it.each(Object.entries(SERVICES))(
    'has a Deployment for %s with probes, requests and known variables',
    (service, port) => {
      const [deployment] = of('Deployment', service);
      const container = deployment!.spec.template!.spec.containers[0]!;
      expect(container.image).toBe(`commerce/${service}:latest`);
      expect(container.ports.map((p) => p.containerPort)).toContain(port);
      expect(container.livenessProbe.httpGet.path).toBe('/health/live');
      expect(container.readinessProbe.httpGet.path).toBe('/health/ready');
      expect(Object.keys(container.resources.requests).sort()).toEqual(['cpu', 'memory']);
      // Idle RSS is 145-165 MB and the benchmark's peak 362 MB (docs/benchmarks.md).
      expect(mebibytes(container.resources.requests.memory!)).toBeGreaterThanOrEqual(192);
      expect(mebibytes(container.resources.limits.memory!)).toBeGreaterThanOrEqual(512);
      expect(container.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '5']);
      expect(container.envFrom?.[0]?.configMapRef?.name).toMatch(/^commerce-config/);
      for (const variable of container.env ?? [])
        expect([service, variable.name, known.has(variable.name)]).toEqual([
          service,
          variable.name,
          true,
        ]);
    },
  );

  it.each(Object.keys(SERVICES))(
    'runs %s hardened: no capabilities, seccomp, read-only root, no service account token',
    (service) => {
      const pod = (
        of('Deployment', service)[0]!.spec.template as unknown as {
          spec: {
            automountServiceAccountToken?: boolean;
            securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
            containers: {
              env?: { name: string }[];
              securityContext?: {
                capabilities?: { drop?: string[] };
                readOnlyRootFilesystem?: boolean;
                allowPrivilegeEscalation?: boolean;
              };
            }[];
          };
        }
      ).spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.containers[0]!.securityContext).toMatchObject({
        capabilities: { drop: ['ALL'] },
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
      });
      expect(pod.containers[0]!.env?.map((variable) => variable.name)).toContain('INTERNAL_TOKEN');
    },
  );

  it('lets only the gateway reach users, and nothing outside inventory and email', () => {
    type Policy = {
      metadata: { name: string };
      spec: {
        podSelector: { matchLabels?: Record<string, string> };
        ingress?: { from?: { podSelector?: { matchLabels: Record<string, string> } }[] }[];
      };
    };
    const policies = of('NetworkPolicy') as unknown as Policy[];
    const deny = policies.find((p) =>
      Object.keys(p.spec.podSelector.matchLabels ?? {}).every((k) =>
        k.startsWith('app.kubernetes.io/part-of'),
      ),
    );
    expect(deny?.spec.ingress ?? []).toEqual([]);
    const forService = (name: string) =>
      policies.filter((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === name);
    const users = forService('users').flatMap((p) => p.spec.ingress ?? []);
    const podSources = users.flatMap((rule) => rule.from ?? []).filter((from) => from.podSelector);
    expect(
      podSources.map((from) => from.podSelector!.matchLabels['app.kubernetes.io/name']),
    ).toEqual(['orders']);
    for (const name of ['inventory', 'email']) {
      const rules = forService(name).flatMap((p) => p.spec.ingress ?? []);
      // Every rule names its sources (the monitoring namespaces): none is open to all.
      for (const rule of rules) expect(rule.from?.length).toBeGreaterThan(0);
      expect(rules.flatMap((rule) => rule.from ?? []).some((from) => from.podSelector)).toBe(false);
    }
  });

  it('configures only variables the services read, and exposes the gateway', () => {
    const [config] = of('ConfigMap');
    for (const name of Object.keys(config!.data ?? {}))
      expect([name, known.has(name)]).toEqual([name, true]);
    expect(of('Service', 'orders')[0]?.spec.ports?.[0]?.port).toBe(3000);
    expect(of('Service', 'rabbitmq')[0]?.spec.type).toBe('ExternalName');
    expect(of('Service', 'postgres')[0]?.spec.type).toBe('ExternalName');
  });
});

describe('deploy/overlays/rabbitmq-cluster, rendered with kubectl kustomize', () => {
  const rendered = parseAllDocuments(
    execFileSync('kubectl', ['kustomize', join(root, 'deploy', 'overlays', 'rabbitmq-cluster')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }),
  ).map((document) => document.toJSON() as { kind: string; metadata: unknown; spec: unknown });

  it('runs a RabbitMQ 4 cluster of three where the base points the services', () => {
    const [cluster] = rendered.filter((m) => m.kind === 'RabbitmqCluster') as {
      metadata: { name: string; namespace: string };
      spec: { replicas: number; image: string };
    }[];
    expect(cluster?.spec.replicas).toBe(3);
    expect(cluster?.spec.image).toMatch(/^rabbitmq:4\.\d+/);
    const [service] = rendered.filter(
      (m) => m.kind === 'Service' && (m.metadata as { name: string }).name === 'rabbitmq',
    ) as { spec: { externalName: string } }[];
    expect(service?.spec.externalName).toBe(
      `${cluster!.metadata.name}.${cluster!.metadata.namespace}.svc.cluster.local`,
    );
  });

  it('gives each service its broker user with the permissions derived from the catalog', () => {
    const operator = rendered.filter((m) =>
      ['User', 'Permission', 'TopicPermission'].includes(m.kind),
    );
    const key = (m: { kind: string; metadata: unknown }) =>
      `${m.kind} ${(m.metadata as { name: string }).name}`;
    const byKey = <T extends { kind: string; metadata: unknown }>(list: T[]) =>
      [...list].sort((a, b) => key(a).localeCompare(key(b)));
    const generated = operatorResources(
      ['users', 'orders', 'inventory', 'email'],
      OPERATOR_CLUSTER,
    ) as { kind: string; metadata: unknown }[];
    expect(byKey(operator)).toEqual(byKey(generated));
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as {
    services: Record<
      string,
      {
        image?: string;
        build?: { args?: { APP?: string } };
        environment?: Record<string, string>;
        healthcheck?: { test: string[] };
        depends_on?: Record<string, { condition: string }>;
        restart?: string;
        ports?: string[];
      }
    >;
  };

  it.each(Object.keys(SERVICES))(
    'runs %s from the Dockerfile with known variables, a health check and its dependencies',
    (name) => {
      const service = compose.services[name]!;
      expect(service.build?.args?.APP).toBe(name);
      expect(service.healthcheck?.test[0]).toBe('CMD-SHELL');
      expect(service.restart).toBe('unless-stopped');
      expect(service.depends_on?.rabbitmq?.condition).toBe('service_healthy');
      expect(service.depends_on?.postgres?.condition).toBe('service_healthy');
      for (const variable of Object.keys(service.environment ?? {}))
        expect([name, variable, known.has(variable)]).toEqual([name, variable, true]);
    },
  );

  it('takes infrastructure images from variables with official defaults, and publishes only the gateway', () => {
    expect(compose.services.rabbitmq?.image).toMatch(
      /^\$\{RABBITMQ_IMAGE:-rabbitmq:4\.\d+-management\}$/,
    );
    expect(compose.services.postgres?.image).toMatch(/^\$\{POSTGRES_IMAGE:-postgres:\d+\}$/);
    expect(compose.services.mailpit?.image).toBe('${MAILPIT_IMAGE:-axllent/mailpit:latest}');
    for (const name of ['users', 'inventory', 'email'])
      expect(compose.services[name]?.ports).toBeUndefined();
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('builds on the Node.js line of .nvmrc and package.json engines', () => {
    const line = readFileSync(join(root, '.nvmrc'), 'utf8').trim();
    const engines = (
      JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        engines: { node: string };
      }
    ).engines.node;
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${line}-slim`);
    expect(engines).toBe(`>=${line}`);
  });

  it('runs each service with the node flags npm start and the test systems use', () => {
    const cmd = /^CMD .*$/m.exec(dockerfile)?.[0];
    expect(cmd).toBeDefined();
    const flags = cmd!.match(/--[a-z-]+(=\S+?)?(?=[ "])/g);
    expect(flags).toEqual(SERVICE_NODE_FLAGS);
  });

  // typescript and ts-node are optional peers of typeorm and @nestjs/swagger, so
  // `npm prune --omit=dev` keeps them: the image then carried a compiler it never runs.
  it('prunes the build stage to what runs: no typescript, no ts-node', () => {
    const prune = /npm prune [^\n&]+/.exec(dockerfile)?.[0];
    expect(prune).toBeDefined();
    const plan = execFileSync(
      'npm',
      [...prune!.trim().split(/\s+/).slice(1), '--dry-run', '--no-audit', '--no-fund'],
      { cwd: root, encoding: 'utf8' },
    );
    expect(plan).toMatch(/^remove typescript \d/m);
    expect(plan).toMatch(/^remove ts-node \d/m);
    expect(plan).not.toMatch(/^remove (pg|amqplib|typeorm|@nestjs\/core) \d/m);
  });
});
