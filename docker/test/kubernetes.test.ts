import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEPLOYABLES, deploymentEnvironment, getDeployable, isSecretVariable, migrationEnvironment, SUBGRAPH_NAMES, type Topology } from '@meridian/launcher';
import { loadGatewayConfig } from '@meridian/gateway';
import {
  allowed,
  egressAllows,
  deploymentProblems,
  dockerDir,
  readDockerfile,
  sampleSecrets,
  supergraphRoutingUrls,
  variablesReadBy,
  type Endpoint,
  type NetworkPolicy,
} from './support';

// Manifests are checked as kustomize renders them (kubectl's built-in kustomize); without
// kubectl there is nothing to render, and the suite says so instead of passing silently.
function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}

function render(overlay: string): Manifest[] {
  const output = execFileSync('kubectl', ['kustomize', path.join(dockerDir, 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
  return parseAllDocuments(output).map((document) => document.toJS() as Manifest);
}

/**
 * An overlay extended as a user extends theirs: a throwaway kustomization next to nothing that
 * names the overlay by relative path (kustomize refuses absolute ones), in its namespace, plus
 * `extra` lines (components, generators, patches; `relative` turns a path into one kustomize takes).
 */
function renderExtended(overlay: string, extra: (relative: (target: string) => string) => string[]): Manifest[] {
  const plain = render(overlay);
  const namespace = plain.find((manifest) => manifest.kind === 'Deployment')?.metadata.namespace;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'meridian-kustomize-'));
  try {
    const relative = (target: string) => path.relative(dir, target);
    writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      [
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        ...(namespace ? [`namespace: ${namespace}`] : []),
        'resources:',
        `  - ${relative(path.join(dockerDir, 'k8s', 'overlays', overlay))}`,
        ...extra(relative),
        '',
      ].join('\n'),
    );
    const output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    return parseAllDocuments(output).map((document) => document.toJS() as Manifest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An overlay with opt-in components (docker/k8s/components) added, as a user adds them to their overlay. */
function renderWithComponents(overlay: string, components: string[]): Manifest[] {
  return renderExtended(overlay, (relative) => ['components:', ...components.map((component) => `  - ${relative(path.join(dockerDir, 'k8s', 'components', component))}`)]);
}

/** The environment a pod of `manifests` gets, secrets replaced by stand-ins of the right format. */
function resolvePodEnv(manifests: Manifest[], env: EnvVar[]): Record<string, string> {
  const secrets = sampleSecrets();
  const configMaps = manifests.filter((manifest) => manifest.kind === 'ConfigMap');
  return Object.fromEntries(
    env.map((variable) => {
      if (variable.value !== undefined) return [variable.name, variable.value];
      const secret = variable.valueFrom?.secretKeyRef;
      if (secret) return [variable.name, secrets[secret.key] ?? ''];
      const config = variable.valueFrom?.configMapKeyRef;
      const map = configMaps.find((candidate) => candidate.metadata.name === config?.name);
      const value = config ? map?.data?.[config.key] : undefined;
      if (value === undefined) throw new Error(`${variable.name}: ConfigMap ${config?.name} has no key ${config?.key}`);
      return [variable.name, value];
    }),
  );
}

/** A CPU quantity ("200m", "2", "1.5") in cores. */
function cores(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/**
 * What is wrong with the gateway pod's GATEWAY_WORKERS: it must come from the meridian-public
 * ConfigMap (overlays merge it), be a number (on Node 20 `auto` counts the node's CPUs, not the
 * pod's share), and each worker beyond the first needs a core of its own in the CPU request (and
 * in the limit, if one is set). Empty when it fits.
 */
function gatewayWorkerProblems(manifests: Manifest[]): string[] {
  const gateway = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'gateway');
  const main = gateway?.spec.template.spec.containers[0] as { env?: EnvVar[]; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } } | undefined;
  const ref = main?.env?.find((variable) => variable.name === 'GATEWAY_WORKERS')?.valueFrom?.configMapKeyRef;
  if (!ref) return ['the gateway gets no GATEWAY_WORKERS from a ConfigMap'];
  const map = manifests.find((manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name === ref.name);
  if (!map || !/^meridian-public(-|$)/.test(ref.name)) return [`GATEWAY_WORKERS comes from ${ref.name}, not meridian-public`];
  const workers = map.data?.[ref.key];
  if (workers === undefined || !/^[1-9][0-9]?$/.test(workers)) return [`GATEWAY_WORKERS is ${JSON.stringify(workers)}, not a number from 1 to 99`];
  const problems: string[] = [];
  const request = cores(main?.resources?.requests?.cpu) ?? 0;
  const limit = cores(main?.resources?.limits?.cpu);
  if (Number(workers) > 1 && request < Number(workers)) problems.push(`${workers} workers on a CPU request of ${request} cores`);
  if (Number(workers) > 1 && limit !== undefined && limit < Number(workers)) problems.push(`${workers} workers under a CPU limit of ${limit} cores`);
  return problems;
}

const k8sTopology: Topology = {
  serviceUrl: (service, port) => `http://${service}:${port}`,
  bindHost: '0.0.0.0',
  databaseUrl: () => '<secret>',
  redisUrl: '<secret>',
  authSecretsKey: '<secret>',
  publicUrl: '<config>',
  nodeEnv: 'production',
  // The NetworkPolicy lets only the ingress controller (and the dashboard) reach the gateway.
  trustProxy: '1',
  // From the ConfigMap meridian-public (checked below).
  gatewayWorkers: '<config>',
};

const stages = new Set(readDockerfile().map((stage) => stage.name));
const secretKeys = new Set(
  readFileSync(path.join(dockerDir, 'k8s', 'secrets.env.example'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined),
);
const overlays = ['dev', 'production'];
const running = DEPLOYABLES.filter((deployable) => deployable.kind !== 'migrations');
const scaled = DEPLOYABLES.filter((deployable) => deployable.kind === 'gateway' || deployable.kind === 'subgraph');

(hasKubectl() ? describe : describe.skip).each(overlays)('Kubernetes overlay %s', (overlay) => {
  const manifests = render(overlay);
  const find = (kind: string, name: string): Manifest => {
    const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
    if (!found) throw new Error(`overlay ${overlay}: no ${kind} ${name}`);
    return found;
  };
  const container = (workload: Manifest) => workload.spec.template.spec.containers[0] as {
    image: string;
    args?: string[];
    env?: EnvVar[];
    ports?: { name: string; containerPort: number }[];
    readinessProbe?: { httpGet?: { path: string; port: string | number } };
    livenessProbe?: { httpGet?: { path: string; port: string | number } };
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  };
  const resolve = (env: EnvVar[]) => resolvePodEnv(manifests, env);
  const namespace = manifests.find((manifest) => manifest.kind === 'Deployment')?.metadata.namespace ?? 'default';

  it.each(running.map((d) => d.name))('%s: sets the variables of the deployment definition, secrets from the Secret', (name) => {
    const env = container(find('Deployment', name)).env ?? [];
    const expected = deploymentEnvironment(name, k8sTopology);
    expect(env.map((variable) => variable.name).sort()).toEqual(Object.keys(expected).sort());
    for (const variable of env) {
      if (isSecretVariable(variable.name)) {
        expect({ variable: variable.name, ref: variable.valueFrom?.secretKeyRef }).toEqual({ variable: variable.name, ref: { name: 'meridian-secrets', key: variable.name } });
        expect(secretKeys.has(variable.name)).toBe(true);
      } else if (variable.value !== undefined) {
        expect({ variable: variable.name, value: variable.value }).toEqual({ variable: variable.name, value: expected[variable.name] });
      } else {
        expect(variable.valueFrom?.configMapKeyRef).toBeDefined();
      }
    }
  });

  it.each(running.map((d) => d.name))('%s: its config parser accepts the pod environment for a distributed production run', (name) => {
    const env = resolve(container(find('Deployment', name)).env ?? []);
    expect(deploymentProblems(name, env)).toEqual([]);
    const read = variablesReadBy(name, env);
    expect(Object.keys(env).filter((variable) => !read.has(variable))).toEqual([]);
  });

  it.each(running.map((d) => d.name))('%s: image from an existing Dockerfile stage; probes on paths it serves, on its port; resources; non-root', (name) => {
    const deployment = find('Deployment', name);
    const main = container(deployment);
    const deployable = getDeployable(name);
    const stage = /(?:^|\/)meridian\/([a-z-]+)(?::|$)/.exec(main.image)?.[1];
    expect({ image: main.image, stage: stage !== undefined && stages.has(stage) && stage === name }).toEqual({ image: main.image, stage: true });
    const http = main.ports?.find((port) => port.name === 'http');
    expect(http?.containerPort).toBe(deployable.port);
    expect(main.livenessProbe?.httpGet).toEqual({ path: deployable.probes!.liveness, port: 'http' });
    expect(main.readinessProbe?.httpGet).toEqual({ path: deployable.probes!.readiness, port: 'http' });
    expect(main.resources?.requests?.cpu).toBeDefined();
    expect(main.resources?.requests?.memory).toBeDefined();
    expect(main.resources?.limits?.memory).toBeDefined();
    expect(deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    const service = find('Service', name);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: deployable.port, targetPort: 'http' }]);
    const budget = find('PodDisruptionBudget', name);
    expect(budget.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
  });

  it.each(scaled.map((d) => d.name))('%s scales horizontally (HPA on its Deployment, at least 2 replicas)', (name) => {
    const autoscaler = find('HorizontalPodAutoscaler', name);
    expect(autoscaler.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name });
    expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(autoscaler.spec.maxReplicas).toBeGreaterThan(autoscaler.spec.minReplicas);
    // A replica count in the Deployment would reset the autoscaler's on every apply.
    expect(find('Deployment', name).spec.replicas).toBeUndefined();
  });

  it('routes the gateway to each subgraph of supergraph.yaml through that subgraph’s Service, on its routing URL’s port and path', () => {
    const gatewayEnv = resolve(container(find('Deployment', 'gateway')).env ?? []);
    for (const [subgraph, routingUrl] of Object.entries(supergraphRoutingUrls())) {
      const url = new URL(gatewayEnv[`${subgraph.toUpperCase()}_SUBGRAPH_URL`] ?? 'http://missing');
      const expected = new URL(routingUrl);
      expect({ subgraph, port: url.port, path: url.pathname }).toEqual({ subgraph, port: expected.port, path: expected.pathname });
      const service = find('Service', url.hostname);
      expect(service.spec.ports[0].port).toBe(Number(expected.port));
      expect(service.spec.selector['app.kubernetes.io/name']).toBe(subgraph);
    }
  });

  it('gives the gateway GATEWAY_WORKERS from the meridian-public ConfigMap, no more workers than cores its pod requests', () => {
    expect(gatewayWorkerProblems(manifests)).toEqual([]);
    const env = resolve(container(find('Deployment', 'gateway')).env ?? []);
    expect(env.GATEWAY_WORKERS).toBe('1');
    expect(loadGatewayConfig(env).workers).toBe(1);
  });

  it.each([...SUBGRAPH_NAMES])('runs a migration Job for %s with only its own database', (subgraph) => {
    const job = find('Job', `migrate-${subgraph}`);
    const main = container(job);
    expect(stages.has(/meridian\/([a-z-]+)/.exec(main.image)?.[1] ?? '')).toBe(true);
    expect(main.image).toMatch(/meridian\/migrate(:|$)/);
    expect(main.args).toEqual(['migrate', subgraph]);
    expect((main.env ?? []).map((variable) => variable.name).sort()).toEqual(Object.keys(migrationEnvironment(subgraph, k8sTopology)).sort());
    const database = (main.env ?? []).find((variable) => variable.name.endsWith('_DATABASE_URL'));
    expect(database?.valueFrom?.secretKeyRef).toEqual({ name: 'meridian-secrets', key: `${subgraph.toUpperCase()}_DATABASE_URL` });
  });

  it('inlines no secret: no Secret objects with data, no secret variable given a literal value', () => {
    const inlined = manifests.filter((manifest) => manifest.kind === 'Secret' && (manifest.data || manifest.stringData)).map((manifest) => manifest.metadata.name);
    expect(inlined).toEqual([]);
    const literal: string[] = [];
    for (const manifest of manifests) {
      for (const pod of [manifest.spec?.template?.spec].filter(Boolean)) {
        for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])] as { name: string; env?: EnvVar[]; args?: string[] }[]) {
          for (const variable of c.env ?? []) {
            if ((isSecretVariable(variable.name) || /PASSWORD|SECRET|_KEY$/.test(variable.name)) && variable.value !== undefined) {
              literal.push(`${manifest.metadata.name}/${c.name}: ${variable.name}`);
            }
          }
        }
      }
    }
    expect(literal).toEqual([]);
  });

  it('exposes /graphql (WebSockets included) on the gateway and / on the dashboard through the Ingress', () => {
    const ingress = find('Ingress', 'meridian');
    const paths = ingress.spec.rules.flatMap((rule: any) => rule.http.paths) as { path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }[];
    expect(paths.map((p) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.name])).toEqual([
      ['/graphql', 'Prefix', 'gateway', 'http'],
      ['/', 'Prefix', 'dashboard', 'http'],
    ]);
    // Long-lived WebSocket subscriptions outlive nginx's 60 s default read timeout.
    expect(Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(Number(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(3600);
  });

  describe('NetworkPolicies', () => {
    const policies = manifests.filter((manifest) => manifest.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
    const pod = (name: string): Endpoint => ({ namespace, labels: find('Deployment', name).spec.template.metadata.labels });
    const ingressController: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
    const elsewhere: Endpoint = { namespace: 'other', labels: { app: 'anything' } };
    const internet: Endpoint = { ip: '203.0.113.7' };
    /** Where service X's database is: the first peer its migration Job may reach on 5432. */
    /**
     * The endpoint a policy's egress rule on `port` names: an address, the pod of this overlay
     * that matches its selector (e.g. the dev PostgreSQL), or else a pod carrying just those labels.
     */
    const peerOf = (policyName: string, port: number, synthetic = false): Endpoint => {
      const policy = policies.find((candidate) => candidate.metadata.name === policyName);
      const peer = policy?.spec.egress?.find((rule) => rule.ports?.some((p) => Number(p.port) === port))?.to?.[0];
      if (peer?.ipBlock) return { ip: peer.ipBlock.cidr.split('/')[0]! };
      const wanted = peer?.podSelector?.matchLabels;
      if (!wanted) throw new Error(`NetworkPolicy ${policyName} names no peer on port ${port}`);
      const workload = manifests.find(
        (manifest) =>
          ['Deployment', 'StatefulSet'].includes(manifest.kind) &&
          Object.entries(wanted).every(([key, value]) => manifest.spec.template.metadata.labels?.[key] === value),
      );
      return { namespace, labels: synthetic || !workload ? { ...wanted } : workload.spec.template.metadata.labels };
    };
    /** Where service X's database is: the peer its migration Job may reach on 5432. */
    const databaseOf = (subgraph: string, synthetic = false) => peerOf(`migrate-${subgraph}`, 5432, synthetic);
    const redis = (subgraph: string) => peerOf(subgraph, 6379);

    it('let the outside reach the gateway and the dashboard only, and only through the ingress controller', () => {
      expect(allowed(policies, namespace, ingressController, pod('gateway'), 4000)).toBe(true);
      expect(allowed(policies, namespace, ingressController, pod('dashboard'), 4100)).toBe(true);
      for (const subgraph of SUBGRAPH_NAMES) {
        const port = getDeployable(subgraph).port;
        expect({ subgraph, fromIngress: allowed(policies, namespace, ingressController, pod(subgraph), port) }).toEqual({ subgraph, fromIngress: false });
        expect({ subgraph, fromElsewhere: allowed(policies, namespace, elsewhere, pod(subgraph), port) }).toEqual({ subgraph, fromElsewhere: false });
      }
      expect(allowed(policies, namespace, elsewhere, pod('gateway'), 4000)).toBe(false);
      expect(allowed(policies, namespace, pod('dashboard'), pod('gateway'), 4000)).toBe(true);
      expect(allowed(policies, namespace, pod('dashboard'), pod('task'), getDeployable('task').port)).toBe(false);
    });

    it('let the gateway reach every subgraph, and subgraphs reach no other subgraph but auth’s JWKS', () => {
      for (const target of SUBGRAPH_NAMES) {
        const port = getDeployable(target).port;
        expect({ target, fromGateway: allowed(policies, namespace, pod('gateway'), pod(target), port) }).toEqual({ target, fromGateway: true });
        for (const source of SUBGRAPH_NAMES.filter((name) => name !== target)) {
          expect({ source, target, open: allowed(policies, namespace, pod(source), pod(target), port) }).toEqual({ source, target, open: target === 'auth' });
        }
      }
    });

    it.each([...SUBGRAPH_NAMES])('let %s reach its own database and Redis, and no other database', (subgraph) => {
      expect(allowed(policies, namespace, pod(subgraph), databaseOf(subgraph), 5432)).toBe(true);
      expect(allowed(policies, namespace, pod(subgraph), redis(subgraph), 6379)).toBe(true);
      for (const other of SUBGRAPH_NAMES.filter((name) => name !== subgraph)) {
        // A database server of the other service alone (the dev overlay shares one server,
        // which carries every database label; there, only credentials separate them).
        const theirs = databaseOf(other, true);
        expect({ subgraph, other, open: egressAllows(policies, namespace, pod(subgraph), theirs, 5432) }).toEqual({ subgraph, other, open: false });
      }
      expect(allowed(policies, namespace, pod(subgraph), internet, 5432)).toBe(false);
      expect(allowed(policies, namespace, pod(subgraph), internet, 443)).toBe(false);
    });

    it.each([...SUBGRAPH_NAMES])('let the migration Job of %s reach only its own database', (subgraph) => {
      const job: Endpoint = { namespace, labels: find('Job', `migrate-${subgraph}`).spec.template.metadata.labels };
      expect(allowed(policies, namespace, job, databaseOf(subgraph), 5432)).toBe(true);
      for (const other of SUBGRAPH_NAMES.filter((name) => name !== subgraph)) {
        expect({ subgraph, other, open: egressAllows(policies, namespace, job, databaseOf(other, true), 5432) }).toEqual({ subgraph, other, open: false });
      }
      expect(allowed(policies, namespace, job, pod('auth'), 4002)).toBe(false);
      expect(allowed(policies, namespace, job, internet, 443)).toBe(false);
    });
  });
});

(hasKubectl() ? describe : describe.skip).each(overlays)('Kubernetes overlay %s with the opt-in monitoring components', (overlay) => {
  const plain = render(overlay);
  const scraped = renderWithComponents(overlay, ['metrics-scraping']);
  const exporting = renderWithComponents(overlay, ['otlp-export']);
  const namespace = plain.find((manifest) => manifest.kind === 'Deployment')?.metadata.namespace ?? 'default';
  const policiesOf = (manifests: Manifest[]) => manifests.filter((manifest) => manifest.kind === 'NetworkPolicy') as unknown as NetworkPolicy[];
  const workload = (manifests: Manifest[], kind: string, name: string) => {
    const found = manifests.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
    if (!found) throw new Error(`overlay ${overlay}: no ${kind} ${name}`);
    return found;
  };
  const pod = (manifests: Manifest[], name: string): Endpoint => ({ namespace, labels: workload(manifests, 'Deployment', name).spec.template.metadata.labels });
  const job = (manifests: Manifest[], subgraph: string): Endpoint => ({ namespace, labels: workload(manifests, 'Job', `migrate-${subgraph}`).spec.template.metadata.labels });
  const prometheus: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
  const otherMonitoringPod: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'grafana' } };
  const collector: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'opentelemetry-collector' } };
  const metricsServing = DEPLOYABLES.filter((deployable) => deployable.kind === 'gateway' || deployable.kind === 'subgraph');

  it('without them, nothing scrapes the services and nothing reaches a collector (deny by default)', () => {
    const policies = policiesOf(plain);
    for (const deployable of metricsServing) {
      expect({ service: deployable.name, scraped: allowed(policies, namespace, prometheus, pod(plain, deployable.name), deployable.port) }).toEqual({ service: deployable.name, scraped: false });
      expect({ service: deployable.name, exports: egressAllows(policies, namespace, pod(plain, deployable.name), collector, 4318) }).toEqual({ service: deployable.name, exports: false });
    }
  });

  it('metrics-scraping lets Prometheus in the monitoring namespace reach each service’s port, and nobody else more than before', () => {
    const policies = policiesOf(scraped);
    for (const deployable of metricsServing) {
      const target = pod(scraped, deployable.name);
      expect({ service: deployable.name, scraped: allowed(policies, namespace, prometheus, target, deployable.port) }).toEqual({ service: deployable.name, scraped: true });
      expect({ service: deployable.name, other: allowed(policies, namespace, otherMonitoringPod, target, deployable.port) }).toEqual({ service: deployable.name, other: false });
      expect({ service: deployable.name, elsewhere: allowed(policies, namespace, { namespace: 'other', labels: { 'app.kubernetes.io/name': 'prometheus' } }, target, deployable.port) }).toEqual({ service: deployable.name, elsewhere: false });
      // Found by Prometheus' pod discovery.
      expect(workload(scraped, 'Deployment', deployable.name).spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    }
    // The rest of the zero-trust rules still hold: the ingress controller reaches no subgraph.
    const ingressController: Endpoint = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };
    for (const subgraph of SUBGRAPH_NAMES) expect(allowed(policies, namespace, ingressController, pod(scraped, subgraph), getDeployable(subgraph).port)).toBe(false);
  });

  it('otlp-export sets OTEL_EXPORTER_OTLP_ENDPOINT on every service and opens egress to that collector port only', () => {
    const policies = policiesOf(exporting);
    const configMap = exporting.find((manifest) => manifest.kind === 'ConfigMap' && manifest.metadata.name === 'meridian-telemetry');
    const endpoint = configMap?.data?.OTEL_EXPORTER_OTLP_ENDPOINT;
    expect(endpoint).toBeDefined();
    const port = Number(new URL(endpoint!).port);
    const withEndpoint = exporting
      .filter((manifest) => manifest.kind === 'Deployment')
      .filter((deployment) =>
        (deployment.spec.template.spec.containers[0].env as EnvVar[]).some(
          (variable) => variable.name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && variable.valueFrom?.configMapKeyRef?.name === configMap!.metadata.name,
        ),
      )
      .map((deployment) => deployment.metadata.name);
    expect(withEndpoint.sort()).toEqual(metricsServing.map((deployable) => deployable.name).sort());
    for (const name of withEndpoint) {
      expect({ service: name, exports: allowed(policies, namespace, pod(exporting, name), collector, port) }).toEqual({ service: name, exports: true });
      expect({ service: name, otherPort: egressAllows(policies, namespace, pod(exporting, name), collector, 4317) }).toEqual({ service: name, otherPort: false });
      expect({ service: name, internet: egressAllows(policies, namespace, pod(exporting, name), { ip: '203.0.113.7' }, 443) }).toEqual({ service: name, internet: false });
      // Each service's config parser accepts and reads the endpoint, in the pod's environment.
      const env = resolvePodEnv(exporting, workload(exporting, 'Deployment', name).spec.template.spec.containers[0].env as EnvVar[]);
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(endpoint);
      expect(deploymentProblems(name, env)).toEqual([]);
      expect(variablesReadBy(name, env).has('OTEL_EXPORTER_OTLP_ENDPOINT')).toBe(true);
    }
    expect(egressAllows(policies, namespace, pod(exporting, 'dashboard'), collector, port)).toBe(false);
    for (const subgraph of SUBGRAPH_NAMES) expect(egressAllows(policies, namespace, job(exporting, subgraph), collector, port)).toBe(false);
  });
});

(hasKubectl() ? describe : describe.skip)('Kubernetes: more gateway workers per pod, as docs/deployment.md ("Scaling") shows', () => {
  // An overlay's additions, as the docs show them: the ConfigMap merged, CPU request and memory limit raised.
  const workers = (count: number, cpu?: string) => () => [
    'configMapGenerator:',
    '  - name: meridian-public',
    '    behavior: merge',
    '    literals:',
    `      - GATEWAY_WORKERS=${count}`,
    ...(cpu
      ? [
          'patches:',
          '  - target:',
          '      kind: Deployment',
          '      name: gateway',
          '    patch: |-',
          '      - op: replace',
          '        path: /spec/template/spec/containers/0/resources/requests/cpu',
          `        value: "${cpu}"`,
          '      - op: replace',
          '        path: /spec/template/spec/containers/0/resources/limits/memory',
          '        value: 1536Mi',
        ]
      : []),
  ];
  const gatewayEnv = (manifests: Manifest[]) => {
    const gateway = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'gateway')!;
    return resolvePodEnv(manifests, gateway.spec.template.spec.containers[0].env as EnvVar[]);
  };

  it.each(overlays)('%s: the merged value reaches the pod, and two workers with two cores requested pass', (overlay) => {
    const manifests = renderExtended(overlay, workers(2, '2'));
    expect(gatewayWorkerProblems(manifests)).toEqual([]);
    const env = gatewayEnv(manifests);
    expect(deploymentProblems('gateway', env)).toEqual([]);
    expect(loadGatewayConfig(env).workers).toBe(2);
  });

  it.each(overlays)('%s: two workers on the base CPU request are refused', (overlay) => {
    expect(gatewayWorkerProblems(renderExtended(overlay, workers(2)))).toEqual(['2 workers on a CPU request of 0.2 cores']);
  });
});
