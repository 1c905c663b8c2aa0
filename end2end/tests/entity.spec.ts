// Opening an entity and following its relations: overview, owner group, member user,
// Relations tab, API definition and the relations graph.
import type { Page } from '@playwright/test';
import { catalogRows, definition, expect, hydrated, open, test } from './fixtures';

const CHECKOUT = '/catalog/default/component/checkout-service';

function about(page: Page) {
  return page.getByRole('region', { name: 'About' });
}

function entityTab(page: Page, name: string) {
  return page.getByRole('navigation', { name: 'Entity sections' }).getByRole('link', { name, exact: true });
}

test.describe('entity pages', () => {
  test('a component opened from the table shows owner, system, lifecycle and APIs', async ({ page }) => {
    await open(page, '/catalog?kind=component&q=checkout');
    await catalogRows(page).getByRole('link', { name: 'Checkout Service', exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${CHECKOUT}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Checkout Service');
    await expect(page.getByRole('paragraph').filter({ hasText: /^component:default\/checkout-service$/ })).toBeVisible();
    await expect(entityTab(page, 'Overview')).toHaveAttribute('aria-current', 'page');
    // The breadcrumb leads back to the kind's list.
    await expect(
      page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Components' }),
    ).toHaveAttribute('href', '/catalog?kind=component');

    const card = about(page);
    await expect(definition(card, 'Owner').getByRole('link', { name: 'team-checkout' })).toHaveAttribute(
      'href',
      '/catalog/default/group/team-checkout',
    );
    await expect(definition(card, 'System').getByRole('link')).toHaveAttribute('href', '/catalog/default/system/checkout');
    await expect(definition(card, 'Lifecycle')).toHaveText('production');
    await expect(definition(card, 'Type')).toHaveText('service');
    await expect(definition(card, 'Kind')).toHaveText('Component');

    // The six APIs of spec.consumesApis, each a link to the API.
    const apis = definition(card, 'Consumes APIs').getByRole('link');
    await expect(apis).toHaveText([
      'Cart API',
      'Customers API',
      'Inventory API',
      'Orders API',
      'Payments API',
      'Shipping API',
    ]);
    await expect(apis.first()).toHaveAttribute('href', '/catalog/default/api/cart-api');
    // A dependency that is not in the catalog is named, marked missing, and not a link.
    const dependsOn = definition(card, 'Depends on');
    await expect(dependsOn.getByRole('link', { name: 'Service Kit (JVM)' })).toBeVisible();
    await expect(dependsOn.getByRole('listitem').filter({ hasText: 'tax-service' })).toContainText('missing');
    await expect(dependsOn.getByRole('link', { name: /tax-service/ })).toHaveCount(0);

    // Links from metadata.links open elsewhere.
    await expect(page.getByRole('region', { name: 'Links' }).getByRole('link', { name: 'Runbook' })).toHaveAttribute(
      'href',
      'https://example.com/runbooks/checkout-service',
    );

    // An API link leads to the API (same route, another kind: the page must be swapped cleanly).
    await apis.first().click();
    await expect(page).toHaveURL(/\/catalog\/default\/api\/cart-api$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cart API');
    await expect(entityTab(page, 'API')).toBeVisible();
    await expect(definition(about(page), 'Providers').getByRole('link', { name: 'Cart Service' })).toBeVisible();
  });

  test('owner link leads to the group (members, owned entities), and a member to the user page', async ({ page }) => {
    // Client-side navigation to an entity of another kind (component → group → user). This once
    // panicked in the wasm when the old page's resource was read after disposal; the automatic
    // page-error check in fixtures.ts catches that.
    await open(page, CHECKOUT);
    await definition(about(page), 'Owner').getByRole('link', { name: 'team-checkout' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/group\/team-checkout$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('team-checkout');

    const members = page.getByRole('region', { name: /^Members/ });
    await expect(members.getByRole('heading', { name: 'Members 3' })).toBeVisible();
    await expect(members.getByRole('link')).toHaveText(['daniel.weiss', 'hannah.okafor', 'mei.lin']);

    const owns = page.getByRole('region', { name: /^Owns/ });
    await expect(owns.getByRole('heading', { name: /^Components \d+$/ })).toBeVisible();
    await expect(owns.getByRole('link', { name: 'Checkout Service', exact: true })).toHaveAttribute('href', CHECKOUT);
    await expect(owns.getByRole('link', { name: 'Cart API', exact: true })).toHaveAttribute(
      'href',
      '/catalog/default/api/cart-api',
    );
    // Parent group in the hierarchy.
    await expect(
      page.getByRole('region', { name: 'Hierarchy' }).getByRole('link', { name: 'commerce-engineering' }),
    ).toBeVisible();

    await members.getByRole('link', { name: 'mei.lin' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/user\/mei\.lin$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('mei.lin');
    await expect(page.getByRole('paragraph').filter({ hasText: /^user:default\/mei\.lin$/ })).toBeVisible();
    const groups = page.getByRole('region', { name: /^Groups/ });
    await expect(groups.getByRole('link', { name: 'team-checkout' })).toHaveAttribute(
      'href',
      '/catalog/default/group/team-checkout',
    );
    await expect(page.getByRole('region', { name: 'Profile' })).toBeVisible();
  });

  test('the Relations tab lists every relation with links', async ({ page }) => {
    await open(page, CHECKOUT);
    await entityTab(page, 'Relations').click();
    await expect(page).toHaveURL(new RegExp(`${CHECKOUT}/relations$`));
    await expect(entityTab(page, 'Relations')).toHaveAttribute('aria-current', 'page');
    await expect(entityTab(page, 'Overview')).not.toHaveAttribute('aria-current', 'page');

    const panel = page.locator('.tab-panel');
    const heading = (name: RegExp) => panel.getByRole('heading', { level: 2, name });
    await expect(heading(/^Consumes API 6/)).toBeVisible();
    await expect(heading(/^Depends on 2/)).toBeVisible();
    await expect(heading(/^Owned by 1/)).toBeVisible();
    await expect(heading(/^Part of 1/)).toBeVisible();
    await expect(heading(/^Dependency of 1/)).toBeVisible();

    await expect(panel.getByRole('link', { name: 'team-checkout' })).toHaveAttribute(
      'href',
      '/catalog/default/group/team-checkout',
    );
    await expect(panel.getByRole('link', { name: 'Checkout & Payments' })).toHaveAttribute(
      'href',
      '/catalog/default/system/checkout',
    );
    // 6 APIs + 1 dependency + 1 dependant + owner + system; the missing tax-service is no link.
    await expect(panel.getByRole('link')).toHaveCount(10);
    await expect(panel.getByRole('listitem').filter({ hasText: 'tax-service' })).toContainText('missing');

    // Following one lands on the target's page.
    await panel.getByRole('link', { name: 'Checkout UI' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/component\/checkout-ui$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Checkout UI');
  });

  test("an API's API tab shows its OpenAPI definition", async ({ page }) => {
    await open(page, '/catalog/default/api/cart-api');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cart API');
    // Only APIs have the tab.
    await entityTab(page, 'API').click();
    await expect(page).toHaveURL(/\/catalog\/default\/api\/cart-api\/api$/);
    await expect(entityTab(page, 'API')).toHaveAttribute('aria-current', 'page');
    const definitionCard = page.getByRole('region', { name: 'Definition' });
    await expect(definitionCard).toContainText('openapi: 3.0.3');
    await expect(definitionCard).toContainText('title: Cart API');
    await expect(definitionCard).toContainText('/carts/{cartId}/items:');
    await expect(definitionCard).toContainText('operationId: addItem');

    await open(page, CHECKOUT);
    await expect(entityTab(page, 'Relations')).toBeVisible();
    await expect(entityTab(page, 'API')).toHaveCount(0);
  });

  test('the relations graph draws the neighbours as links', async ({ page }) => {
    await open(page, CHECKOUT);
    const graph = page.getByRole('group', { name: 'Relations graph' });
    await expect(graph).toBeVisible();
    expect(await graph.evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
    const links = graph.getByRole('link');
    // 6 consumed APIs, 1 dependency (tax-service is not in the catalog), 1 dependant, owner, system.
    await expect(links).toHaveCount(10);
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    expect(hrefs).toEqual(
      expect.arrayContaining([
        '/catalog/default/api/cart-api',
        '/catalog/default/component/service-kit-jvm',
        '/catalog/default/component/checkout-ui',
        '/catalog/default/group/team-checkout',
        '/catalog/default/system/checkout',
      ]),
    );
    expect(hrefs).not.toContain(CHECKOUT); // the centre is not a link to itself
    await expect(graph.getByText('Checkout Service')).toBeVisible();
    await expect(graph.getByText('Depends on').first()).toBeVisible();

    // Two hops reach further.
    await page.getByRole('navigation', { name: 'Graph depth' }).getByRole('link', { name: '2 hops' }).click();
    await expect(page).toHaveURL(new RegExp(`${CHECKOUT}\\?depth=2$`));
    await expect(
      page.getByRole('navigation', { name: 'Graph depth' }).getByRole('link', { name: '2 hops' }),
    ).toHaveAttribute('aria-current', 'page');
    await expect.poll(async () => graph.getByRole('link').count()).toBeGreaterThan(10);

    // A box is a working link.
    await open(page, CHECKOUT);
    await graph.getByRole('link', { name: 'group:default/team-checkout' }).click();
    await expect(page).toHaveURL(/\/catalog\/default\/group\/team-checkout$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('team-checkout');
    await hydrated(page);
  });

  test('the entity page is plain HTML: only the search box wakes', async ({ page }) => {
    // Tables, cards and the graph are server-rendered and never hydrated; the header's search
    // box is the page's one island.
    await open(page, CHECKOUT);
    const islands = page.locator('leptos-island');
    await expect(islands).toHaveCount(1);
    await expect(islands.first()).toHaveAttribute('data-component', /^SearchBox/);
    // A graph box is a plain link: following it loads the entity's page.
    await page
      .getByRole('group', { name: 'Relations graph' })
      .getByRole('link', { name: 'component:default/checkout-ui' })
      .click();
    await expect(page).toHaveURL(/\/catalog\/default\/component\/checkout-ui$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Checkout UI');
  });
});
