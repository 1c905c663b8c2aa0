// The home page and the teams view as people meet them, on the release build started as README.md
// starts it (its own working directory, relative ./data, the demo organisation); the signed-in
// part with README's sign-in section and a real OpenID provider (end2end/oidc/op.mjs).
//
// A guest's `/` (on the suite's server, README's first command) is the organisation at a glance;
// an old link to the catalog at `/?kind=…` lands on /catalog; /teams sorts by its headers; a parent team's page rolls its sub-teams up and a
// team's page lists its docs. Hannah signs in and finds her team and what it owns on
// her home, stars a service from its page, finds it among her stars and recent visits, and still
// does after Backlot restarts (they are in the database); Lucas's home has none of it. Unstarring
// takes it off.
import { expect, open, test } from './fixtures';
import { restartSignInBacklot, type SignInBacklot, signInAs, startSignInBacklot, stopSignInBacklot } from './oidc';

const CLIENT_SECRET = 'e2e-home-client-secret-41d9';

let origin = '';
let issuer = '';

test.describe('a guest', () => {
  test("a guest's home is the organisation at a glance; old catalog links and /teams", async ({ page }) => {
    // The suite's server: README's first command, no sign-in configured, everyone a guest.
    await open(page, '/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('The organisation at a glance');
    const teams = page.getByTestId('teams');
    await expect(teams.locator('tr[data-team="team-checkout"]')).toHaveCount(1);
    await expect(teams.locator('tr[data-team]')).toHaveCount(10);
    await expect(page.getByTestId('changes').getByRole('listitem')).toHaveCount(10);
    // The suite's server watches one real API server (playwright.config.ts).
    await expect(page.getByTestId('clusters').locator('a[href="/kubernetes/clusters/test"]')).toHaveCount(1);

    // The search form goes to the search page.
    const search = page.getByRole('main').getByRole('search');
    await search.getByRole('searchbox').fill('checkout');
    await search.getByRole('button', { name: 'Search' }).click();
    await expect(page).toHaveURL(/\/search\?q=checkout/);

    // The catalog used to be at `/`: its links still land on it.
    await page.goto('/?kind=component&owner=group%3Adefault%2Fteam-checkout');
    await expect(page).toHaveURL(/\/catalog\?/);
    await expect(page.getByRole('table').locator('a[href="/catalog/default/component/checkout-service"]')).toHaveCount(1);

    // Every team, sorted by the header the user clicks.
    await open(page, '/');
    await page.getByRole('link', { name: /^All \d+ teams/ }).click();
    await expect(page).toHaveURL(/\/teams$/);
    const table = page.getByTestId('all-teams');
    await table.getByRole('link', { name: 'Owns' }).click();
    await expect(page).toHaveURL(/\/teams\?sort=owned$/);
    const owned = await table.locator('tbody tr td:nth-child(2)').allInnerTexts();
    const counts = owned.map((t) => Number(t.trim()));
    expect(counts.length).toBeGreaterThan(3);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    await expect(table.getByRole('columnheader', { name: 'Owns' })).toHaveAttribute('aria-sort', 'ascending');
    await expect(page.getByTestId('unowned')).toBeVisible();
    await expect(page.getByTestId('unknown-owner')).toBeVisible();

    // A team's dashboard: a parent group rolls its sub-teams up; a team lists its docs.
    await table.locator('tr[data-team="commerce-engineering"]').getByRole('link').click();
    await expect(page).toHaveURL(/\/catalog\/default\/group\/commerce-engineering$/);
    await expect(page.getByTestId('subteams').locator('tr[data-team]')).toHaveCount(3);
    await page.getByTestId('subteams').locator('tr[data-team="team-checkout"]').getByRole('link').click();
    await expect(page.getByTestId('team-docs').locator('a[href="/catalog/default/component/checkout-service/docs"]')).toHaveCount(1);
    await expect(page.getByTestId('subteams')).toHaveCount(0);
  });
});

test.describe('home page of a signed-in person', () => {
  test.describe.configure({ mode: 'default' });
  test.use({ baseURL: async ({}, use) => use(origin) });

  let b: SignInBacklot | undefined;

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    b = await startSignInBacklot('home', CLIENT_SECRET);
    origin = b.origin;
    issuer = b.issuer;
  });

  test.afterAll(async () => {
    await stopSignInBacklot(b);
  });

  test('stars and recent visits are kept per user, across a restart', async ({ page, browser }) => {
    test.setTimeout(150_000);
    await signInAs(page, origin, issuer, 'hannah.okafor', '/');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Welcome, Hannah Okafor');
    await expect(page.getByTestId('my-teams').locator('tr[data-team="team-checkout"]')).toHaveCount(1);
    await expect(page.getByTestId('my-entities').locator('a[href="/catalog/default/component/checkout-service"]')).toHaveCount(1);
    await expect(page.getByTestId('starred')).toContainText('Nothing starred yet');

    // Star a service from its page; the button says so.
    await open(page, '/catalog/default/component/payment-service');
    await page.getByRole('button', { name: '☆ Star' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/component\/payment-service$/);
    await expect(page.getByRole('button', { name: '★ Starred' })).toHaveAttribute('aria-pressed', 'true');
    await open(page, '/catalog/default/api/orders-api');

    // Home: the star, and both visits, latest first.
    await open(page, '/');
    const starred = page.getByTestId('starred');
    await expect(starred.getByRole('link', { name: /payment/i })).toHaveAttribute('href', '/catalog/default/component/payment-service');
    const recent = page.getByTestId('recent').getByRole('link');
    await expect(recent).toHaveCount(2);
    await expect(recent.first()).toHaveAttribute('href', '/catalog/default/api/orders-api');

    // They are in the database: a restart keeps them (and the session).
    await restartSignInBacklot(b!);
    await open(page, '/');
    await expect(page.getByTestId('starred').getByRole('link', { name: /payment/i })).toHaveCount(1);

    // Another person's home has none of Hannah's.
    const other = await browser.newPage();
    await signInAs(other, origin, issuer, 'lucas.moreno', '/');
    await expect(other.getByRole('heading', { level: 1 })).toHaveText('Welcome, Lucas Moreno');
    await expect(other.getByTestId('starred')).toContainText('Nothing starred yet');
    await expect(other.getByTestId('recent').getByRole('link')).toHaveCount(0);
    await other.close();

    // Unstarred from the page, it leaves the home page.
    await page.getByTestId('starred').getByRole('link', { name: /payment/i }).click();
    await page.getByRole('button', { name: '★ Starred' }).click();
    await expect(page.getByRole('button', { name: '☆ Star' })).toBeVisible();
    await open(page, '/');
    await expect(page.getByTestId('starred')).toContainText('Nothing starred yet');
  });
});
