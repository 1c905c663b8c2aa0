// Scorecards in Chromium, on the release build started as README.md starts it (the demo
// organisation and its "Service maturity" scorecard, no config file): an entity page shows the
// level reached and each check with why, a failing one with how to fix it; the team page rolls up
// what the team owns, worst first, with a 30-day trend drawn on the server as SVG (today's point
// from the results stored when Backlot evaluated the demo); the REST API says the same. The
// catalog table shows each row's level and filters by it (with JavaScript, ticking a level;
// without, the same GET URL), combined with the other filters.
import { expect, open, test } from './fixtures';

test.describe('scorecards', () => {
  test('an entity page shows its level and its checks', async ({ page }) => {
    await open(page, '/catalog/default/component/checkout-service');
    const card = page.locator('#scorecards [data-scorecard="service-maturity"]');
    await expect(card.locator('.level-badge')).toHaveAttribute('data-level', 'gold');
    await expect(card.locator('li.check-failed')).toHaveCount(0);
    await expect(card.locator('li[data-check="owner"] .check-mark')).toHaveAttribute('aria-label', 'passed');

    // The demo's deliberate mistake: an owner that does not exist fails the first level.
    await open(page, '/catalog/default/component/gift-cards-service');
    const failing = page.locator('#scorecards [data-scorecard="service-maturity"]');
    await expect(failing.locator('.level-badge')).toHaveText('no level');
    const owner = failing.locator('li[data-check="owner"]');
    await expect(owner).toHaveClass(/check-failed/);
    await expect(owner.locator('.check-reason')).toContainText('team-gifting');
    await expect(owner.locator('.check-fix')).toContainText('How to fix');
  });

  test('a team page rolls up what it owns, worst first', async ({ page, request }) => {
    await open(page, '/catalog/default/group/team-checkout');
    const rows = page.locator('#team-scorecards li');
    await expect(rows.first()).toBeVisible();
    const levels = await rows.locator('.level-badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-level') ?? ''));
    const rank = (l: string) => ['', 'bronze', 'silver', 'gold'].indexOf(l);
    expect(levels.length).toBeGreaterThan(0);
    expect(levels.map(rank)).toEqual([...levels.map(rank)].sort((a, b) => a - b));

    const api = await request.get('/api/scorecards/entities/default/component/checkout-service');
    expect(api.status()).toBe(200);
    expect(JSON.stringify(await api.json())).toContain('gold');
  });

  test('a team page draws the 30-day trend of its levels', async ({ page }) => {
    await open(page, '/catalog/default/group/team-checkout');
    const trend = page.locator('#team-scorecards figure[data-trend="service-maturity"]');
    await expect(trend).toBeVisible();
    await expect(trend.locator('figcaption')).toContainText('last 30 days');
    // One line per level, bronze to gold, each with 30 points (one per day).
    const paths = trend.locator('svg path');
    await expect(paths).toHaveCount(3);
    const points = await paths.evaluateAll((els) => els.map((e) => (e.getAttribute('d') ?? '').split(' ').length));
    expect(points).toEqual([30, 30, 30]);
    // Today's counts: checkout-service is gold, so at least one entity reaches gold.
    const legend = trend.locator('.trend-legend li');
    await expect(legend).toHaveCount(3);
    await expect(legend.nth(2)).toContainText(/gold or above: [1-9]/);
    await expect(trend.locator('svg')).toHaveAttribute('aria-label', /today bronze \d+, silver \d+, gold [1-9]/);
  });

  test('the catalog table shows each level and filters by it', async ({ page, request }) => {
    await open(page, '/catalog?kind=component');
    await expect(page.getByRole('columnheader', { name: 'Level' })).toBeVisible();
    const row = (name: string) =>
      page.getByRole('row').filter({ has: page.locator(`a[href="/catalog/default/component/${name}"]`) });
    await expect(row('checkout-service').locator('td.cell-level .level-badge')).toHaveAttribute('data-level', 'gold');
    // Ticking a level submits the filter form (the island); the URL keeps the kind.
    const facet = page.locator('.level-facet[data-scorecard="service-maturity"]');
    const gold = facet.locator('label', { has: page.locator('input[value="gold"]') });
    const golds = Number(await gold.locator('.count').textContent());
    expect(golds).toBeGreaterThan(1);
    await gold.locator('input').check();
    // The form names the scorecard the levels are of.
    await expect(page).toHaveURL(/\/catalog\?kind=component&scorecard=service-maturity&level=gold$/);
    await expect(page.locator('.active-filters')).toContainText('Level: gold');
    const cells = page.locator('tbody td.cell-level .level-badge');
    await expect(cells).toHaveCount(Math.min(golds, 25));
    expect(new Set(await cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-level'))))).toEqual(new Set(['gold']));
    // The REST API counts the same.
    const api = await request.get('/api/scorecards/service-maturity/entities?level=gold');
    expect(api.status()).toBe(200);
    const body = await api.json();
    expect(body.items).toHaveLength(golds);
    expect(body.counts.find((c: { level: string }) => c.level === 'gold').count).toBe(golds);

    // No level reached, combined with the text filter: the demo's service whose owner is missing.
    await open(page, '/catalog?kind=component&level=none&q=gift');
    await expect(row('gift-cards-service').locator('td.cell-level .level-badge')).toHaveText('no level');
    await expect(page.locator('tbody tr')).toHaveCount(1);
    await expect(facet.locator('input[value="none"]')).toBeChecked();
  });
});
