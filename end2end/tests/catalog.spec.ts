// Browsing the catalog: kind tabs with counts, facet filters, text filter, sorting and paging,
// all kept in the URL, with and without JavaScript.
import type { Page } from '@playwright/test';
import {
  COL,
  catalogRows,
  columnTexts,
  entityCount,
  expect,
  hydrated,
  open,
  params,
  rowNames,
  test,
} from './fixtures';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A facet checkbox: its label is the value followed by its count ("service 29"). */
function facetBox(page: Page, facet: string, value: string) {
  return page
    .getByRole('group', { name: facet, exact: true })
    .getByRole('checkbox', { name: new RegExp(`^${escapeRe(value)}\\s*[\\d,]+$`) });
}

function kindTab(page: Page, label: string) {
  return page.getByRole('navigation', { name: 'Kinds' }).getByRole('link', { name: new RegExp(`^${label}\\b`) });
}

async function tabCount(page: Page, label: string): Promise<number> {
  return Number(await kindTab(page, label).locator('.count').innerText());
}

function heading(page: Page) {
  return page.getByRole('heading', { level: 1 });
}

function sortLink(page: Page, column: string) {
  return page.getByRole('columnheader', { name: column }).getByRole('link');
}

const ascending = (xs: string[]) => xs.every((x, i) => i === 0 || xs[i - 1].localeCompare(x) <= 0);
const descending = (xs: string[]) => xs.every((x, i) => i === 0 || xs[i - 1].localeCompare(x) >= 0);

test.describe('catalog', () => {
  test('lists every entity with a count per kind', async ({ page }) => {
    await open(page, '/catalog');
    await expect(heading(page)).toHaveText('All entities');

    // The demo organisation (server/demo).
    expect(await tabCount(page, 'Components')).toBe(45);
    expect(await tabCount(page, 'APIs')).toBe(10);
    expect(await tabCount(page, 'Groups')).toBe(12);
    expect(await tabCount(page, 'Users')).toBe(23);

    // "All" is the sum of the kinds, and the count under the heading agrees.
    const kindLinks = page.getByRole('navigation', { name: 'Kinds' }).getByRole('link');
    const counts = (await kindLinks.locator('.count').allInnerTexts()).map(Number);
    const [all, ...perKind] = counts;
    expect(perKind.length).toBeGreaterThanOrEqual(7);
    expect(all).toBe(perKind.reduce((a, b) => a + b, 0));
    expect(await entityCount(page)).toBe(all);
    await expect(kindTab(page, 'All')).toHaveAttribute('aria-current', 'page');

    // The first page of the table: 25 rows of mixed kinds, each name a link to its page.
    await expect(catalogRows(page)).toHaveCount(25);
    expect(new Set(await columnTexts(page, COL.kind)).size).toBeGreaterThan(1);
    const firstLink = catalogRows(page).first().getByRole('cell').first().getByRole('link');
    await expect(firstLink).toHaveAttribute('href', /^\/catalog\/default\/[a-z]+\/[\w.-]+$/);
    await expect(page.getByText(new RegExp(`^1–25 of ${all}$`))).toBeVisible();
  });

  test('kind tab and filters narrow the table, live in the URL and survive a reload', async ({ page }) => {
    await open(page, '/catalog');
    await kindTab(page, 'Components').click();
    await expect(page).toHaveURL(/\/catalog\?kind=component$/);
    await expect(heading(page)).toHaveText('Components');
    await expect(kindTab(page, 'Components')).toHaveAttribute('aria-current', 'page');
    const components = await entityCount(page);
    expect(components).toBe(45);
    expect(new Set(await columnTexts(page, COL.kind))).toEqual(new Set(['Component']));

    // Type: service.
    await facetBox(page, 'Type', 'service').check();
    await expect(page.getByRole('link', { name: 'Remove filter Type: service' })).toBeVisible();
    expect(params(page).get('kind')).toBe('component');
    expect(params(page).getAll('type')).toEqual(['service']);
    const services = await entityCount(page);
    expect(services).toBeLessThan(components);
    expect(new Set(await columnTexts(page, COL.type))).toEqual(new Set(['service']));

    // Owner: team-checkout (the facet shows the short name, the URL carries the reference).
    await facetBox(page, 'Owner', 'team-checkout').check();
    await expect(page.getByRole('link', { name: 'Remove filter Owner: team-checkout' })).toBeVisible();
    expect(params(page).getAll('owner')).toEqual(['group:default/team-checkout']);
    const owned = await entityCount(page);
    expect(owned).toBeLessThan(services);
    expect(new Set(await columnTexts(page, COL.owner))).toEqual(new Set(['team-checkout']));

    // Lifecycle: production.
    await facetBox(page, 'Lifecycle', 'production').check();
    await expect(page.getByRole('link', { name: 'Remove filter Lifecycle: production' })).toBeVisible();
    expect(params(page).getAll('lifecycle')).toEqual(['production']);
    const filtered = await entityCount(page);
    expect(filtered).toBeLessThan(owned);
    await expect(catalogRows(page)).toHaveCount(filtered);
    expect(new Set(await columnTexts(page, COL.lifecycle))).toEqual(new Set(['production']));
    const names = await rowNames(page);
    expect(names).toContain('Checkout Service');
    expect(names).not.toContain('fraud-detection'); // a team-checkout service, but experimental

    // The same URL, loaded afresh, shows the same state.
    const url = page.url();
    await page.reload();
    await hydrated(page);
    expect(page.url()).toBe(url);
    await expect(heading(page)).toHaveText('Components');
    expect(await entityCount(page)).toBe(filtered);
    expect(await rowNames(page)).toEqual(names);
    await expect(facetBox(page, 'Type', 'service')).toBeChecked();
    await expect(facetBox(page, 'Owner', 'team-checkout')).toBeChecked();
    await expect(facetBox(page, 'Lifecycle', 'production')).toBeChecked();
    await expect(page.getByRole('list', { name: 'Active filters' }).getByRole('link', { name: /^Remove filter/ })).toHaveCount(3);

    // Removing one filter (its chip) widens the table again and leaves the others.
    await page.getByRole('link', { name: 'Remove filter Lifecycle: production' }).click();
    await expect(page.getByRole('link', { name: 'Remove filter Lifecycle: production' })).toHaveCount(0);
    expect(params(page).getAll('lifecycle')).toEqual([]);
    expect(params(page).getAll('type')).toEqual(['service']);
    expect(await entityCount(page)).toBe(owned);
    await expect(facetBox(page, 'Lifecycle', 'production')).not.toBeChecked();

    // Unticking a box removes it as well.
    await facetBox(page, 'Owner', 'team-checkout').uncheck();
    await expect(page.getByRole('link', { name: 'Remove filter Owner: team-checkout' })).toHaveCount(0);
    expect(params(page).getAll('owner')).toEqual([]);
    expect(await entityCount(page)).toBe(services);
  });

  test('the text filter narrows the table and can be cleared', async ({ page }) => {
    await open(page, '/catalog?kind=component');
    const box = page.getByRole('searchbox', { name: 'Filter by text' });
    await box.fill('payment');
    await box.press('Enter');
    await expect(page.getByRole('link', { name: 'Remove filter Text: “payment”' })).toBeVisible();
    expect(params(page).get('q')).toBe('payment');
    expect(params(page).get('kind')).toBe('component');
    const n = await entityCount(page);
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(45);
    const names = await rowNames(page);
    expect(names).toContain('Payment Service');
    expect(names).not.toContain('Cart Service');
    await expect(box).toHaveValue('payment');

    await page.getByRole('link', { name: 'Clear all' }).click();
    await expect(page).toHaveURL(/\/catalog\?kind=component$/);
    expect(await entityCount(page)).toBe(45);
  });

  test('sorting by a column changes the order', async ({ page }) => {
    await open(page, '/catalog?kind=component');
    await expect(page.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending');
    await expect(page.getByRole('columnheader', { name: 'Owner' })).toHaveAttribute('aria-sort', 'none');
    const byName = await rowNames(page);

    await sortLink(page, 'Owner').click();
    await expect(page.getByRole('columnheader', { name: 'Owner' })).toHaveAttribute('aria-sort', 'ascending');
    expect(params(page).get('sort')).toBe('owner');
    expect(params(page).get('kind')).toBe('component');
    await expect(page.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'none');
    const ownersUp = await columnTexts(page, COL.owner);
    expect(ownersUp).toHaveLength(25);
    expect(ascending(ownersUp)).toBe(true);
    expect(await rowNames(page)).not.toEqual(byName);

    await sortLink(page, 'Owner').click();
    await expect(page.getByRole('columnheader', { name: 'Owner' })).toHaveAttribute('aria-sort', 'descending');
    expect(params(page).get('sort')).toBe('-owner');
    const ownersDown = await columnTexts(page, COL.owner);
    expect(descending(ownersDown)).toBe(true);
    expect(ownersDown[0]).not.toBe(ownersUp[0]);

    // Another column starts ascending (back to the default order, so no `sort` in the URL);
    // clicked again it turns descending, and the first row of the ascending order leaves page 1.
    await sortLink(page, 'Name').click();
    await expect(page.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'ascending');
    expect(params(page).get('sort')).toBeNull();
    expect(await rowNames(page)).toEqual(byName);
    await sortLink(page, 'Name').click();
    await expect(page.getByRole('columnheader', { name: 'Name' })).toHaveAttribute('aria-sort', 'descending');
    expect(params(page).get('sort')).toBe('-name');
    expect(await rowNames(page)).not.toContain(byName[0]);
  });

  test('pagination shows the next page', async ({ page }) => {
    await open(page, '/catalog');
    const total = await entityCount(page);
    const pages = Math.ceil(total / 25);
    expect(pages).toBeGreaterThan(1);
    const pagination = page.getByRole('navigation', { name: 'Pagination' });
    await expect(pagination.getByText(`1–25 of ${total}`)).toBeVisible();
    await expect(pagination.getByText(`Page 1 of ${pages}`)).toBeVisible();
    await expect(pagination.getByRole('link', { name: '← Previous' })).toHaveCount(0);
    const first = await rowNames(page);

    await pagination.getByRole('link', { name: 'Next →' }).click();
    await expect(pagination.getByText(`Page 2 of ${pages}`)).toBeVisible();
    expect(params(page).get('page')).toBe('2');
    await expect(pagination.getByText(`26–50 of ${total}`)).toBeVisible();
    await expect(catalogRows(page)).toHaveCount(25);
    const second = await rowNames(page);
    expect(second.filter((n) => first.includes(n))).toEqual([]);

    await pagination.getByRole('link', { name: '← Previous' }).click();
    await expect(pagination.getByText(`Page 1 of ${pages}`)).toBeVisible();
    expect(params(page).get('page')).toBeNull();
    expect(await rowNames(page)).toEqual(first);

    // The last page holds the remainder and has no Next link.
    await open(page, `/catalog?page=${pages}`);
    await expect(pagination.getByText(`Page ${pages} of ${pages}`)).toBeVisible();
    await expect(catalogRows(page)).toHaveCount(total - 25 * (pages - 1));
    await expect(pagination.getByRole('link', { name: 'Next →' })).toHaveCount(0);
  });
});

test.describe('catalog without JavaScript', () => {
  test.use({ javaScriptEnabled: false });

  test('kind tabs, filters, sorting and paging are links and a form', async ({ page }) => {
    const response = await page.goto('/catalog');
    expect(response?.status()).toBe(200);
    // No wasm ran: the page is the server's HTML alone.
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
    await expect(heading(page)).toHaveText('All entities');
    await expect(catalogRows(page)).toHaveCount(25);

    await kindTab(page, 'Components').click();
    await expect(page).toHaveURL(/\/catalog\?kind=component$/);
    await expect(heading(page)).toHaveText('Components');
    expect(await entityCount(page)).toBe(45);

    // Ticking boxes does nothing by itself; "Apply filters" submits the GET form.
    await facetBox(page, 'Type', 'service').check();
    await facetBox(page, 'Lifecycle', 'production').check();
    await expect(page).toHaveURL(/\/catalog\?kind=component$/);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect(page.getByRole('link', { name: 'Remove filter Type: service' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Remove filter Lifecycle: production' })).toBeVisible();
    expect(params(page).get('kind')).toBe('component');
    expect(params(page).getAll('type')).toEqual(['service']);
    expect(params(page).getAll('lifecycle')).toEqual(['production']);
    const filtered = await entityCount(page);
    expect(filtered).toBeLessThan(45);
    expect(new Set(await columnTexts(page, COL.type))).toEqual(new Set(['service']));
    expect(new Set(await columnTexts(page, COL.lifecycle))).toEqual(new Set(['production']));
    await expect(facetBox(page, 'Type', 'service')).toBeChecked();

    // Sorting is a link that keeps the filters.
    await sortLink(page, 'Owner').click();
    await expect(page.getByRole('columnheader', { name: 'Owner' })).toHaveAttribute('aria-sort', 'ascending');
    expect(params(page).get('sort')).toBe('owner');
    expect(params(page).getAll('type')).toEqual(['service']);
    expect(ascending(await columnTexts(page, COL.owner))).toBe(true);

    // The text filter is part of the same form.
    await page.getByRole('searchbox', { name: 'Filter by text' }).fill('payment');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    expect(params(page).get('q')).toBe('payment');
    expect(params(page).getAll('type')).toEqual(['service']);
    expect(params(page).get('sort')).toBe('owner');
    expect(await rowNames(page)).toContain('Payment Service');
    expect(await entityCount(page)).toBeLessThan(filtered);

    // A chip removes its filter.
    await page.getByRole('link', { name: 'Remove filter Text: “payment”' }).click();
    expect(params(page).get('q')).toBeNull();
    expect(await entityCount(page)).toBe(filtered);

    // Paging.
    await page.goto('/catalog');
    await page.getByRole('navigation', { name: 'Pagination' }).getByRole('link', { name: 'Next →' }).click();
    expect(params(page).get('page')).toBe('2');
    await expect(page.getByRole('navigation', { name: 'Pagination' }).getByText(/^26–50 of \d+$/)).toBeVisible();
  });
});
