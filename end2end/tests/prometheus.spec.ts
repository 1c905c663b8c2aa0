// Golden signals from a real Prometheus (Debian's package, started by .ci/start-prom.sh) scraping
// this test's own Backlot, as README.md's demo does: the demo's component:default/backlot shows
// its request rate, errors and latency with server-drawn sparklines and the alert a rule fires
// on it; when Prometheus stops, the open page says since when there is no data and why, and
// when it is back the page recovers by itself.
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

function prom(args: string[], env: Record<string, string> = {}) {
  execFileSync('bash', args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}

test.describe('golden signals from Prometheus', () => {
  test.describe.configure({ mode: 'default' });
  test.use({ baseURL: async ({}, use) => use(origin) });

  let tmp = '';
  let state = '';
  let server: OwnServer | undefined;

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-prom-'));
    state = path.join(tmp, 'prom');
    const workDir = path.join(tmp, 'cwd');
    fs.mkdirSync(workDir);
    const rules = path.join(tmp, 'rules.yml');
    fs.writeFileSync(rules, RULES);
    const port = await freePort();
    // Prometheus first (scraping Backlot's port before it listens is fine), then Backlot with
    // its URL, no config file.
    prom([path.join(repoRoot, '.ci', 'start-prom.sh'), state, `backlot=127.0.0.1:${port}`], { PROM_RULES: rules });
    const promUrl = `http://127.0.0.1:${fs.readFileSync(path.join(state, 'port'), 'utf8').trim()}`;
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'), { BACKLOT_PROMETHEUS_URL: promUrl });
    origin = server.origin;
  });

  test.afterAll(async () => {
    await stopBacklot(server);
    if (state) prom([path.join(repoRoot, '.ci', 'stop-prom.sh'), state]);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the portal's own page shows its signals, sparklines and alert, live, stale and recovered", async ({ page }) => {
    test.setTimeout(180_000);
    await open(page, '/catalog/default/component/backlot');
    const card = page.getByRole('region', { name: 'Golden signals' });
    await expect(card).toBeVisible();
    await expect(card.locator('.live-marker')).toHaveAttribute('data-live', 'true');
    const rate = card.locator('li[data-signal="request-rate"]');
    // The first samples arrive while the page is open: it updates by itself (no reload).
    await expect(rate.locator('.signal-value')).toHaveText(/ req\/s$/, { timeout: 60_000 });
    await expect(rate.locator('svg.sparkline path')).toHaveAttribute('d', /^M[\d.]+ [\d.]+/);
    await expect(card.locator('li[data-signal="latency-p99"] .signal-value')).toHaveText(/ (ms|s)$/);
    await expect(card.locator('li[data-signal="error-ratio"] .signal-value')).toHaveText(/ %$/);
    // The rule's alert, with its severity and summary.
    const alert = card.locator('li[data-alert="BacklotServing"]');
    await expect(alert).toBeVisible({ timeout: 60_000 });
    await expect(alert).toHaveAttribute('data-severity', 'warning');
    await expect(alert).toContainText('Backlot answers requests');
    // The range switch is plain links.
    await card.getByRole('link', { name: '6h', exact: true }).click();
    await expect(page).toHaveURL(/\?range=6h$/);
    const card6h = page.getByRole('region', { name: 'Golden signals' });
    await expect(card6h.getByRole('link', { name: '6h', exact: true })).toHaveAttribute('aria-current', 'page');
    // Six hours step every 90 s: the first answer may end before the first samples, and the
    // open card updates itself at the next step.
    await expect(card6h.locator('li[data-signal="request-rate"] svg.sparkline')).toBeVisible({ timeout: 120_000 });

    // Prometheus stops: the open page says since when and why, and keeps the last values.
    await page.goto('/catalog/default/component/backlot');
    await expect(page.locator('.live-marker').first()).toHaveAttribute('data-live', 'true');
    prom([path.join(repoRoot, '.ci', 'stop-prom.sh'), state]);
    const stale = page.locator('li[data-signal="request-rate"] .signal-stale');
    await expect(stale).toHaveText(/^no data since \d\d:\d\d:\d\d — unreachable: /, { timeout: 60_000 });
    await expect(page.locator('li[data-signal="request-rate"] .signal-value')).toHaveText(/ req\/s$/);

    // Back again: the page recovers by itself.
    prom([path.join(repoRoot, '.ci', 'start-prom.sh'), '--again', state]);
    await expect(stale).toHaveCount(0, { timeout: 60_000 });
  });

  test("the team page lists its services' signals", async ({ page }) => {
    test.setTimeout(150_000);
    // The team table is not live: until Prometheus has samples (a fresh one, when this test runs
    // alone) it is not there, so the page is opened again until it is.
    const table = page.getByRole('region', { name: 'Golden signals' }).getByRole('table');
    const row = table.locator('tr[data-entity="backlot"]');
    await expect(async () => {
      await open(page, '/catalog/default/group/team-platform');
      await expect(row.locator('td[data-signal="request-rate"]')).toHaveText(/ req\/s$/, { timeout: 1_000 });
    }).toPass({ timeout: 120_000, intervals: [5_000] });
  });
});
