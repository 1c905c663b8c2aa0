// GitOps delivery as a developer meets it: a real kube-apiserver (.ci/start-kube.sh) with ArgoCD's
// real Application CRD installed (server/src/k8s/testdata/crds/), an Application for the demo's
// catalog-service written as ArgoCD's controller writes it, and the test's own release Backlot
// started the way README.md starts it (KUBECONFIG, no config file, relative ./data). The
// entity's Kubernetes tab shows the Application in its Delivery section, the clusters page and
// the team page list it while it is out of sync, and when ArgoCD syncs it the open tab changes
// by itself within 2 seconds. "Which revision runs where" names the cluster's revision with a link to
// the commit on the repository's web pages, and follows the sync.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, open, test } from './fixtures';
import { freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

const GIT = 'abc1234567890abcdef1234567890abcdef12345';
const CLUSTER = '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432';

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

/** ArgoCD's controller writes `status` on the Application itself (its CRD has no status subresource). */
function appStatus(status: object) {
  kubectl(['-n', 'argocd', 'patch', 'applications.argoproj.io', 'catalog-service', '--type=merge', '-p',
    JSON.stringify({ status })]);
}

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-gitops-'));
  kubeDir = path.join(dir, 'kube');
  fs.mkdirSync(kubeDir);
  execFileSync('bash', [path.join(repoRoot, '.ci/start-kube.sh'), kubeDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  // The real CRD; Kubernetes 1.20's kubectl does not know some newer schema keys, the server
  // drops them (see testdata/crds/README.md).
  kubectl(['create', '--validate=false', '-f',
    path.join(repoRoot, 'server/src/k8s/testdata/crds/argoproj.io_applications.yaml')]);
  // (kubectl wait fails while the CRD has no conditions yet, so ask until it is established.)
  for (let i = 0; ; i++) {
    let established = '';
    try {
      established = kubectl(['get', 'crd', 'applications.argoproj.io', '-o',
        'jsonpath={.status.conditions[?(@.type=="Established")].status}']);
    } catch {
      // No conditions yet: jsonpath finds nothing to filter.
    }
    if (established === 'True') break;
    if (i > 150) throw new Error('the Application CRD was not established within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  kubectl(['create', 'namespace', 'argocd']);
  kubectl(['apply', '-f', '-'], `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: catalog-service
  namespace: argocd
  labels: {backstage.io/kubernetes-id: catalog-service}
spec:
  project: default
  source: {repoURL: "https://github.com/acme/catalog-service.git", path: deploy, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: catalog}
`);
  appStatus({
    sync: { status: 'OutOfSync', revision: GIT },
    health: { status: 'Healthy' },
    operationState: { phase: 'Succeeded', startedAt: '2026-12-07T14:01:00Z', finishedAt: '2026-12-07T14:02:00Z',
      operation: { sync: { revision: CLUSTER } }, syncResult: { revision: CLUSTER } },
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

test('an ArgoCD sync reaches an open Kubernetes tab within 2 seconds', async ({ page }) => {
  const origin = server!.origin;
  // Out of sync: on the clusters page and the team's page.
  await open(page, `${origin}/kubernetes`);
  await expect(page.locator('.delivery-attention tr[data-delivery="catalog-service"]')).toContainText('OutOfSync');
  await open(page, `${origin}/catalog/default/group/team-catalog`);
  await expect(page.locator('.team-health .delivery-attention tr[data-delivery="catalog-service"]'))
    .toContainText('Git at abc1234, cluster at 9f8e7d6 since 14:02');

  await open(page, `${origin}/catalog/default/component/catalog-service/kubernetes`);
  const app = page.locator('.delivery-object[data-delivery="catalog-service"]');
  await expect(app).toHaveAttribute('data-state', 'OutOfSync');
  await expect(app.locator('.delivery-revisions')).toHaveText('Git abc1234 · cluster 9f8e7d6');
  const reason = app.locator('.reason[data-code="OutOfSync"]');
  await expect(reason).toContainText('Application catalog-service is out of sync: Git at abc1234, cluster at 9f8e7d6 since 14:02');
  await expect(reason).toContainText('argocd app sync argocd/catalog-service');
  await expect(page.locator('.live-marker').first()).toHaveAttribute('data-live', 'true');
  const commits = 'https://github.com/acme/catalog-service/commit/';
  await expect(app.locator('.delivery-commit a')).toHaveAttribute('href', commits + CLUSTER);
  const where = page.locator('.revisions-where tr[data-revision-of="catalog-service"]');
  await expect(where).toHaveCount(1);
  await expect(where).toContainText('OutOfSync');
  await expect(where.locator('a.commit-link')).toHaveText('9f8e7d6');
  await expect(where.locator('a.commit-link')).toHaveAttribute('href', commits + CLUSTER);

  // ArgoCD syncs: the open tab changes by itself, no reload.
  appStatus({
    sync: { status: 'Synced', revision: GIT },
    operationState: { phase: 'Succeeded', startedAt: '2026-12-07T14:05:00Z', finishedAt: '2026-12-07T14:06:00Z',
      operation: { sync: { revision: GIT } }, syncResult: { revision: GIT } },
  });
  const changed = Date.now();
  await expect(page.locator('.delivery-object[data-delivery="catalog-service"]'))
    .toHaveAttribute('data-state', 'Synced', { timeout: 2_000 });
  expect(Date.now() - changed).toBeLessThan(2_000);
  await expect(page.locator('.delivery-object[data-delivery="catalog-service"] .delivery-revisions'))
    .toHaveText('abc1234 (Git and cluster)');
  await expect(page.locator('.reason[data-code="OutOfSync"]')).toHaveCount(0);
  await expect(where).toContainText('Synced');
  await expect(where.locator('a.commit-link')).toHaveAttribute('href', commits + GIT);
});
