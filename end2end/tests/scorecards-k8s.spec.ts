// The scorecards' cluster rules in Chromium: a real kube-apiserver (.ci/start-kube.sh), the
// test's own release Backlot started the way README.md starts it (KUBECONFIG, no config file,
// the demo, relative ./data), and a `Scorecard` entity registered from a file whose check is
// `probes`. The demo's catalog-service runs as a Deployment without probes: its entity page
// says which container lacks which probe and how to fix it; once the Deployment's template has
// probes, the page and the REST API say the check passes.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, open, test } from './fixtures';
import { freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

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

const SCORECARD = `apiVersion: backlot.io/v1alpha1
kind: Scorecard
metadata: {name: kubernetes-ready, title: Kubernetes ready}
spec:
  filter: {kind: component}
  levels: [ok]
  checks:
    - {id: probes, title: Probes on every container, level: ok, rule: probes,
       fix: Add a readinessProbe and a livenessProbe to each container of the pod template.}
`;

test.beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-scorecards-k8s-'));
  kubeDir = path.join(dir, 'kube');
  fs.mkdirSync(kubeDir);
  execFileSync('bash', [path.join(repoRoot, '.ci/start-kube.sh'), kubeDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  kubectl(['create', 'namespace', 'shop']);
  const labels = '{"backstage.io/kubernetes-id": "catalog-service", "app": "catalog-service"}';
  kubectl(['apply', '-f', '-'], `apiVersion: apps/v1
kind: Deployment
metadata: {name: catalog-service, namespace: shop, labels: ${labels}}
spec:
  replicas: 2
  selector: {matchLabels: {app: catalog-service}}
  template:
    metadata: {labels: ${labels}}
    spec: {containers: [{name: app, image: "registry.example.com/catalog-service:2.4.1"}]}
`);
  const files = path.join(dir, 'files');
  fs.mkdirSync(files);
  fs.writeFileSync(path.join(files, 'scorecard.yaml'), SCORECARD);
  const work = path.join(dir, 'cwd');
  fs.mkdirSync(work);
  server = await startBacklot(work, await freePort(), path.join(dir, 'backlot.log'), {
    KUBECONFIG: path.join(kubeDir, 'kubeconfig'),
    BACKLOT_FILE_ROOTS: files,
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

test('a Deployment without probes fails the probes check until its template has them', async ({ page, request }) => {
  const origin = server!.origin;
  const created = await request.post(`${origin}/api/catalog/locations`, {
    data: { type: 'file', target: path.join(dir, 'files', 'scorecard.yaml') },
  });
  expect(created.status()).toBe(201);

  const check = page.locator('#scorecards [data-scorecard="kubernetes-ready"] li[data-check="probes"]');
  await expect(async () => {
    await open(page, `${origin}/catalog/default/component/catalog-service`);
    await expect(check.locator('.check-reason')).toContainText(
      'Deployment catalog-service (cluster', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(check).toHaveClass(/check-failed/);
  await expect(check.locator('.check-reason')).toContainText('container app has no readiness probe and no liveness probe');
  await expect(check.locator('.check-fix')).toContainText('Add a readinessProbe and a livenessProbe');

  // The fix, in the Deployment's template.
  const probe = { httpGet: { path: '/healthz', port: 8080 } };
  kubectl(['-n', 'shop', 'patch', 'deploy', 'catalog-service', '--type=strategic', '-p', JSON.stringify({
    spec: { template: { spec: { containers: [{ name: 'app', readinessProbe: probe, livenessProbe: probe }] } } },
  })]);
  await expect(async () => {
    await open(page, `${origin}/catalog/default/component/catalog-service`);
    await expect(check.locator('.check-mark')).toHaveAttribute('aria-label', 'passed', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(check.locator('.check-reason')).toContainText('has a readiness probe and a liveness probe');

  const answer = await request.get(`${origin}/api/scorecards/entities/default/component/catalog-service`);
  expect(answer.status()).toBe(200);
  const body = await answer.json();
  const card = body.scorecards.find((s: { name: string }) => s.name === 'kubernetes-ready');
  expect(card.checks[0].passed).toBe(true);
});
