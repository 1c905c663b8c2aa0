// Deployment health from a real kube-apiserver (started for the run by playwright.config.ts):
// an open Kubernetes tab changes by itself when a pod starts crash-looping, and the team and
// cluster pages show the same state.
import { execFileSync } from 'node:child_process';
import { test, expect, open } from './fixtures';

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', args, {
    input,
    env: process.env,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** The demo's catalog-service (backstage.io/kubernetes-id: catalog-service) as a Deployment →
 * ReplicaSet → Pod chain, healthy. */
function seed(ns: string) {
  kubectl(['create', 'namespace', ns]);
  const labels = '{"backstage.io/kubernetes-id": "catalog-service", "app": "catalog-service"}';
  kubectl(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog-service, namespace: ${ns}, labels: ${labels}}
spec:
  replicas: 1
  selector: {matchLabels: {app: catalog-service}}
  template:
    metadata: {labels: ${labels}}
    spec: {containers: [{name: app, image: "registry.example.com/catalog-service:2.4.1"}]}
`);
  const duid = kubectl(['-n', ns, 'get', 'deploy', 'catalog-service', '-o', 'jsonpath={.metadata.uid}']);
  kubectl(['apply', '-f', '-'], `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: catalog-service-7f9c
  namespace: ${ns}
  labels: {app: catalog-service, pod-template-hash: 7f9c}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: catalog-service, uid: ${duid}, controller: true}]
spec:
  replicas: 1
  selector: {matchLabels: {app: catalog-service, pod-template-hash: 7f9c}}
  template:
    metadata: {labels: {app: catalog-service, pod-template-hash: 7f9c}}
    spec: {containers: [{name: app, image: "registry.example.com/catalog-service:2.4.1"}]}
`);
  const ruid = kubectl(['-n', ns, 'get', 'rs', 'catalog-service-7f9c', '-o', 'jsonpath={.metadata.uid}']);
  kubectl(['apply', '-f', '-'], `apiVersion: v1
kind: Pod
metadata:
  name: catalog-service-7f9c-x1
  namespace: ${ns}
  labels: {app: catalog-service, pod-template-hash: 7f9c}
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: catalog-service-7f9c, uid: ${ruid}, controller: true}]
spec: {nodeName: node-1, containers: [{name: app, image: "registry.example.com/catalog-service:2.4.1"}]}
`);
  podStatus(ns, { running: { startedAt: '2026-11-29T00:00:00Z' } }, true, 0);
  kubectl(['-n', ns, 'patch', 'rs', 'catalog-service-7f9c', '--subresource=status', '--type=merge', '-p',
    '{"status":{"replicas":1,"readyReplicas":1,"availableReplicas":1}}']);
  kubectl(['-n', ns, 'patch', 'deploy', 'catalog-service', '--subresource=status', '--type=merge', '-p',
    '{"status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1}}']);
}

function podStatus(ns: string, state: object, ready: boolean, restarts: number) {
  const status = {
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'app', ready, restartCount: restarts, image: 'registry.example.com/catalog-service:2.4.1', imageID: '', state }],
    },
  };
  kubectl(['-n', ns, 'patch', 'pod', 'catalog-service-7f9c-x1', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
}

test('an open Kubernetes tab follows the cluster live', async ({ page }) => {
  const ns = 'shop';
  seed(ns);
  await open(page, '/catalog/default/component/catalog-service/kubernetes');
  const panel = page.locator('.kube');
  await expect(panel).toHaveAttribute('data-health', 'healthy');
  await expect(page.locator('.live-marker')).toHaveAttribute('data-live', 'true');
  await expect(page.locator('[data-pod="catalog-service-7f9c-x1"]')).toContainText('running');

  // The pod starts crash-looping: the page changes by itself within 2 seconds, no reload.
  podStatus(ns, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s' } }, false, 6);
  kubectl(['-n', ns, 'patch', 'deploy', 'catalog-service', '--subresource=status', '--type=merge', '-p',
    '{"status":{"readyReplicas":0,"availableReplicas":0,"unavailableReplicas":1}}']);
  const changed = Date.now();
  await expect(panel).toHaveAttribute('data-health', 'down', { timeout: 2_000 });
  expect(Date.now() - changed).toBeLessThan(2_000);
  const reason = page.locator('.reason[data-code="CrashLoopBackOff"]').first();
  await expect(reason).toContainText('keeps crashing (restarted 6 times)');
  await expect(reason).toContainText('--previous');

  // The same state on the overview card, the team's page and the cluster page.
  await open(page, '/catalog/default/component/catalog-service');
  await expect(page.locator('.kube-summary .health').first()).toHaveText('down');
  await open(page, '/catalog/default/group/team-catalog');
  await expect(page.locator('.team-health tr[data-entity="catalog-service"]')).toContainText('down');
  // Worst first.
  await expect(page.locator('.team-health tbody tr').first()).toHaveAttribute('data-entity', 'catalog-service');
  await open(page, '/kubernetes');
  await expect(page.locator('tr[data-cluster]').first()).toContainText('live');
  await page.locator('tr[data-cluster] a').first().click();
  await expect(page.locator('tr[data-workload="catalog-service"]')).toContainText('down');

  // Recovery, live again.
  await open(page, '/catalog/default/component/catalog-service/kubernetes');
  podStatus(ns, { running: { startedAt: '2026-11-29T00:10:00Z' } }, true, 6);
  kubectl(['-n', ns, 'patch', 'deploy', 'catalog-service', '--subresource=status', '--type=merge', '-p',
    '{"status":{"readyReplicas":1,"availableReplicas":1,"unavailableReplicas":0}}']);
  await expect(panel).not.toHaveAttribute('data-health', 'down', { timeout: 2_000 });
});

test('an entity without workloads says how to link them', async ({ page }) => {
  await open(page, '/catalog/default/component/search-service/kubernetes');
  await expect(page.getByText('No workload matching label backstage.io/kubernetes-id=search-service runs in any cluster')).toBeVisible();
});
