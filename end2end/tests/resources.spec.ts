// Platform resources as a developer meets them: a real kube-apiserver (.ci/start-kube.sh) with
// the claim and composite CRDs Crossplane generates for its documented XRD and External Secrets'
// real ExternalSecret CRD (server/src/k8s/testdata/crds/), a claim and an ExternalSecret for the
// demo's catalog-service whose status is written through the status subresource as Crossplane's
// and External Secrets' controllers write it, and the test's own release Backlot started the way
// README.md starts it. The entity's Kubernetes tab shows them in its Resources section with the
// reasons and the connection secret's state, the clusters page and the team page list them while
// they are not ready, and when Crossplane makes the claim Ready the open tab changes by itself
// within 2 seconds.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, open, test } from './fixtures';
import { freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

const CRDS = path.join(repoRoot, 'server/src/k8s/testdata/crds');
const ERROR = 'cannot compose resources: InvalidClientTokenId: The security token included in the request is invalid';

let dir = '';
let kubeDir = '';
let server: OwnServer | undefined;

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', args, {
    input,
    env: { ...process.env, KUBECONFIG: path.join(kubeDir, 'kubeconfig') },
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** What Kubernetes 1.20 does not take from the real CRDs (testdata/crds/README.md). */
function for120(v: unknown): void {
  if (Array.isArray(v)) {
    v.forEach(for120);
  } else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    delete o['x-kubernetes-validations'];
    if (o.default === '') delete o.default;
    Object.values(o).forEach(for120);
  }
}

async function installCrd(file: string, name: string) {
  const crd = JSON.parse(kubectl(['create', '--dry-run=client', '--validate=false', '-o', 'json', '-f', path.join(CRDS, file)]));
  for120(crd);
  kubectl(['create', '--validate=false', '-f', '-'], JSON.stringify(crd));
  for (let i = 0; ; i++) {
    let established = '';
    try {
      established = kubectl(['get', 'crd', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    } catch {
      // No conditions yet.
    }
    if (established === 'True') return;
    if (i > 150) throw new Error(`${name} was not established within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Status through the status subresource, as the controllers write it. */
function status(resource: string, name: string, value: object) {
  kubectl(['-n', 'catalog', 'patch', resource, name, '--subresource=status', '--type=merge', '-p',
    JSON.stringify({ status: value })]);
}

/** A condition as Crossplane and External Secrets write it (an empty message left out: omitempty). */
function cond(type: string, state: string, reason: string, message = '') {
  return { type, status: state, reason, ...(message ? { message } : {}), lastTransitionTime: '2026-12-07T14:02:00Z' };
}

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-resources-'));
  kubeDir = path.join(dir, 'kube');
  fs.mkdirSync(kubeDir);
  execFileSync('bash', [path.join(repoRoot, '.ci/start-kube.sh'), kubeDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await installCrd('database.example.org_postgresqlinstances.yaml', 'postgresqlinstances.database.example.org');
  await installCrd('database.example.org_xpostgresqlinstances.yaml', 'xpostgresqlinstances.database.example.org');
  await installCrd('external-secrets.io_externalsecrets.yaml', 'externalsecrets.external-secrets.io');
  kubectl(['create', 'namespace', 'catalog']);
  kubectl(['apply', '-f', '-'], `apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata:
  name: catalog-db
  namespace: catalog
  labels: {backstage.io/kubernetes-id: catalog-service}
spec:
  parameters: {storageGB: 20}
  compositionRef: {name: aws-postgres}
  resourceRef: {apiVersion: database.example.org/v1alpha1, kind: XPostgreSQLInstance, name: catalog-db-x7k2p}
  writeConnectionSecretToRef: {name: catalog-db-conn}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: catalog-creds
  namespace: catalog
  labels: {backstage.io/kubernetes-id: catalog-service}
spec:
  refreshInterval: 1h
  secretStoreRef: {kind: SecretStore, name: aws}
  target: {name: catalog-creds}
  data: [{secretKey: password, remoteRef: {key: catalog/db}}]
`);
  status('postgresqlinstances.database.example.org', 'catalog-db', {
    conditions: [cond('Synced', 'False', 'ReconcileError', ERROR), cond('Ready', 'False', 'Creating')],
  });
  status('externalsecrets.external-secrets.io', 'catalog-creds', {
    conditions: [cond('Ready', 'False', 'SecretSyncedError', 'SecretStore aws not ready')],
  });
  const work = path.join(dir, 'cwd');
  fs.mkdirSync(work);
  server = await startBacklot(work, await freePort(), path.join(dir, 'backlot.log'), {
    KUBECONFIG: path.join(kubeDir, 'kubeconfig'),
  });
});

test.afterAll(async () => {
  await stopBacklot(server);
  if (kubeDir) {
    execFileSync('bash', [path.join(repoRoot, '.ci/stop-kube.sh'), kubeDir], {
      stdio: 'ignore',
      env: { ...process.env, STOP_GRACE: '1' },
    });
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a Crossplane claim going Ready reaches an open Kubernetes tab within 2 seconds', async ({ page }) => {
  const origin = server!.origin;
  // Not ready: on the clusters page and the team's page, beside the delivery lists.
  await open(page, `${origin}/kubernetes`);
  await expect(page.locator('.resources-attention tr[data-resource="catalog-db"]')).toContainText('Not ready');
  await expect(page.locator('.resources-attention tr[data-resource="catalog-creds"]'))
    .toContainText('ExternalSecret catalog-creds failed to sync: SecretStore aws not ready');
  await open(page, `${origin}/catalog/default/group/team-catalog`);
  await expect(page.locator('.team-health .resources-attention tr[data-resource="catalog-db"]'))
    .toContainText('Crossplane claim catalog-db not Ready: ReconcileError');

  // The entity's Resources section: the claim's reason and next step, its connection secret.
  await open(page, `${origin}/catalog/default/component/catalog-service/kubernetes`);
  const claim = page.locator('.resources .resource-object[data-resource="catalog-db"]');
  await expect(claim).toHaveAttribute('data-state', 'Not ready');
  const reason = claim.locator('.reason[data-code="ReconcileError"]');
  await expect(reason).toContainText(`Crossplane claim catalog-db not Ready: ReconcileError: ${ERROR}`);
  await expect(reason).toContainText('check the provider credentials');
  await expect(claim.locator('.resource-secret')).toHaveText('catalog-db-conn: unknown: Crossplane has not published it yet');
  const secret = page.locator('.resources .resource-object[data-resource="catalog-creds"]');
  await expect(secret.locator('.reason[data-code="SecretSyncedError"]')).toContainText('SecretStore aws not ready');
  await expect(page.locator('.live-marker').first()).toHaveAttribute('data-live', 'true');

  // Crossplane makes it Ready and publishes the connection secret: the tab changes by itself.
  status('postgresqlinstances.database.example.org', 'catalog-db', {
    conditions: [cond('Synced', 'True', 'ReconcileSuccess'), cond('Ready', 'True', 'Available')],
    connectionDetails: { lastPublishedTime: '2026-12-07T14:09:00Z' },
  });
  const changed = Date.now();
  await expect(claim).toHaveAttribute('data-state', 'Ready', { timeout: 2_000 });
  expect(Date.now() - changed).toBeLessThan(2_000);
  await expect(claim.locator('.resource-secret')).toHaveText('catalog-db-conn: published by Crossplane at 2026-12-07T14:09:00Z');
  await expect(page.locator('.reason[data-code="ReconcileError"]')).toHaveCount(0);
});
