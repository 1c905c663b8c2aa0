// Alerts from a real Alertmanager (Debian's prometheus-alertmanager, started by .ci/start-am.sh),
// sent to it by a real Prometheus (.ci/start-prom.sh) whose rule fires on this test's own Backlot,
// which reads it as README.md says (BACKLOT_PROMETHEUS_URL, BACKLOT_ALERTMANAGER_URL): the
// portal's page lists the alert firing, the catalog table counts it and /teams sums it for the
// owning team; a silence made through
// Alertmanager's API turns it "silenced" on the open page, in the JSON API and in the count;
// Alertmanager stopped, the open page says since when there are no alerts and why.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, open, test } from './fixtures';
import { freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

const RULES = `groups:
  - name: backlot
    rules:
      - alert: BacklotServing
        expr: sum by (job) (rate(backlot_http_requests_total{job="backlot"}[10s])) > 0
        labels: {severity: warning}
        annotations: {summary: "Backlot answers requests"}
`;

let origin = '';

function ci(script: string, args: string[], env: Record<string, string> = {}) {
  execFileSync('bash', [path.join(repoRoot, '.ci', script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

test.describe('alerts from Alertmanager', () => {
  test.describe.configure({ mode: 'default' });
  test.use({ baseURL: async ({}, use) => use(origin) });

  let tmp = '';
  let promState = '';
  let amState = '';
  let amUrl = '';
  let server: OwnServer | undefined;

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-am-'));
    promState = path.join(tmp, 'prom');
    amState = path.join(tmp, 'am');
    const workDir = path.join(tmp, 'cwd');
    fs.mkdirSync(workDir);
    const rules = path.join(tmp, 'rules.yml');
    fs.writeFileSync(rules, RULES);
    ci('start-am.sh', [amState]);
    const amAddress = `127.0.0.1:${fs.readFileSync(path.join(amState, 'port'), 'utf8').trim()}`;
    amUrl = `http://${amAddress}`;
    const port = await freePort();
    ci('start-prom.sh', [promState, `backlot=127.0.0.1:${port}`], { PROM_RULES: rules, PROM_ALERTMANAGER: amAddress });
    const promUrl = `http://127.0.0.1:${fs.readFileSync(path.join(promState, 'port'), 'utf8').trim()}`;
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'), {
      BACKLOT_PROMETHEUS_URL: promUrl,
      BACKLOT_ALERTMANAGER_URL: amUrl,
    });
    origin = server.origin;
  });

  test.afterAll(async () => {
    await stopBacklot(server);
    if (promState) ci('stop-prom.sh', [promState]);
    if (amState) ci('stop-am.sh', [amState]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('an alert fires, is counted in the catalog, is silenced in Alertmanager, and goes stale', async ({ page }) => {
    test.setTimeout(300_000);
    // The open page follows its stream: the alert arrives by itself once Prometheus sent it.
    await open(page, '/catalog/default/component/backlot');
    const card = page.getByRole('region', { name: 'Golden signals' });
    await expect(card.locator('.live-marker')).toHaveAttribute('data-live', 'true');
    const alert = card.locator('li[data-alert="BacklotServing"]');
    await expect(alert).toHaveAttribute('data-state', 'firing', { timeout: 90_000 });
    await expect(alert).toHaveAttribute('data-severity', 'warning');
    await expect(alert).toContainText('Backlot answers requests');
    await expect(card.locator('#alerts')).toHaveText('Firing alerts');

    // The catalog table's count (refreshed once per step) links to the entity's alerts.
    const row = page.getByRole('row').filter({ has: page.locator('a[href="/catalog/default/component/backlot"]') });
    await expect(async () => {
      await open(page, '/catalog?kind=component&q=backlot');
      await expect(page.getByRole('columnheader', { name: 'Alerts' })).toBeVisible({ timeout: 1_000 });
      await expect(row.locator('td.cell-alerts')).toHaveAttribute('data-alerts', '1', { timeout: 1_000 });
    }).toPass({ timeout: 90_000, intervals: [3_000] });
    // The organisation view sums what each team owns: the portal's team counts it, and sorting
    // by alerts puts a team with firing alerts first.
    await open(page, '/teams?sort=alerts');
    await expect(page.getByRole('columnheader', { name: 'Alerts' })).toBeVisible();
    await expect(page.locator('tr[data-team="team-platform"] td.cell-alerts')).toHaveAttribute('data-alerts', /^[1-9]/);
    await expect(page.locator('[data-testid="all-teams"] tbody tr').first().locator('td.cell-alerts')).toHaveAttribute('data-alerts', /^[1-9]/);
    await open(page, '/catalog?kind=component&q=backlot');
    await row.getByRole('link', { name: '1', exact: true }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/component\/backlot#alerts$/);
    await expect(page.locator('li[data-alert="BacklotServing"]')).toBeVisible();
    await expect(page.locator('.live-marker').first()).toHaveAttribute('data-live', 'true');

    // A silence made through Alertmanager's API: the open page shows the alert silenced.
    const now = Date.now();
    const made = await page.request.post(`${amUrl}/api/v2/silences`, {
      data: {
        matchers: [{ name: 'alertname', value: 'BacklotServing', isRegex: false, isEqual: true }],
        startsAt: new Date(now - 1_000).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: 'end-to-end test',
        comment: 'silenced by the test',
      },
    });
    expect(made.ok()).toBe(true);
    const silenced = page.locator('li[data-alert="BacklotServing"]');
    await expect(silenced).toHaveAttribute('data-state', 'silenced', { timeout: 60_000 });
    await expect(silenced.locator('.alert-state')).toHaveText('silenced');
    await expect(page.locator('#alerts')).toContainText('0 firing, 1 silenced or inhibited');
    // The JSON API says the same.
    const answer = await page.request.get('/api/observability/entities/default/component/backlot/signals');
    expect(answer.status()).toBe(200);
    const body = await answer.json();
    expect(body.alerts.map((a: { name: string; state: string }) => [a.name, a.state])).toEqual([['BacklotServing', 'silenced']]);
    // And the catalog no longer counts it.
    await expect(async () => {
      await open(page, '/catalog?kind=component&q=backlot');
      await expect(row.locator('td.cell-alerts')).toHaveAttribute('data-alerts', '0', { timeout: 1_000 });
    }).toPass({ timeout: 60_000, intervals: [3_000] });

    // Alertmanager stops: the open page says since when and why, and keeps the last answer.
    await open(page, '/catalog/default/component/backlot');
    await expect(page.locator('.live-marker').first()).toHaveAttribute('data-live', 'true');
    ci('stop-am.sh', [amState]);
    await expect(page.locator('.stale-note')).toHaveText(/^Alerts: no data since \d\d:\d\d:\d\d — unreachable: /, {
      timeout: 60_000,
    });
    await expect(page.locator('li[data-alert="BacklotServing"]')).toHaveAttribute('data-state', 'silenced');
  });
});
