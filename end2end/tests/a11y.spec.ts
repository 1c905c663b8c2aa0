// Accessibility and keyboard basics: names for the controls, a sensible Tab order, filters that
// work from the keyboard.
import type { Page } from '@playwright/test';
import { expect, open, params, test } from './fixtures';

/** Tab to the skip link, follow it, and check that the next Tab lands in the page, not the header. */
async function followSkipLink(page: Page) {
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('main')).toBeFocused({ timeout: 3_000 });
  await page.keyboard.press('Tab');
  await expect(page.getByRole('navigation', { name: 'Kinds' }).getByRole('link').first()).toBeFocused();
}

test.describe('accessibility and keyboard', () => {
  test('controls have accessible names; Tab reaches the search box; filters work from the keyboard', async ({ page }) => {
    await open(page, '/catalog');
    const search = page.getByRole('combobox', { name: 'Search the catalog' });

    // Tab order from the top: skip link, brand, main navigation (6 links: Catalog, Create, Docs, Clusters, Locations, Errors), then the search box.
    const order: string[] = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el ? el.getAttribute('aria-label') || el.innerText.trim() || el.tagName : '';
      });
      order.push(focused);
      if (await search.evaluate((el) => el === document.activeElement)) break;
    }
    expect(order[0]).toBe('Skip to content');
    expect(order[order.length - 1]).toBe('Search the catalog');
    expect(order.length).toBeLessThanOrEqual(10);
    await expect(search).toBeFocused();

    // Landmarks and names.
    await expect(page.getByRole('banner')).toBeVisible();
    await expect(page.getByRole('main')).toBeVisible();
    await expect(page.getByRole('search')).toBeVisible();
    await expect(search).toBeVisible();
    await expect(page.getByRole('searchbox', { name: 'Filter by text' })).toBeVisible();
    for (const facet of ['Type', 'Owner', 'Lifecycle', 'Tags', 'Namespace', 'System']) {
      await expect(page.getByRole('group', { name: facet, exact: true })).toBeVisible();
    }
    // Unfold the folded facet values ("Show 4 more") so that every checkbox is exposed.
    const more = page.getByRole('main').getByText(/^Show \d+ more$/);
    expect(await more.count()).toBeGreaterThan(0);
    for (const summary of await more.all()) await summary.click();
    const boxes = page.getByRole('main').getByRole('checkbox');
    expect(await boxes.count()).toBeGreaterThan(10);
    for (const box of await boxes.all()) {
      await expect(box).toHaveAccessibleName(/\S/);
    }
    for (const input of await page.locator('input:not([type=hidden]), select, textarea').all()) {
      await expect(input).toHaveAccessibleName(/\S/);
    }
    for (const button of await page.getByRole('button').all()) {
      await expect(button).toHaveAccessibleName(/\S/);
    }
    // The only button that matters without JavaScript is gone once hydrated.
    await expect(page.getByRole('button', { name: 'Apply filters' })).toBeHidden();

    // A facet checkbox toggled with the space bar filters the table.
    const service = page
      .getByRole('group', { name: 'Type', exact: true })
      .getByRole('checkbox', { name: /^service\s*\d+$/ });
    await service.focus();
    await page.keyboard.press('Space');
    await expect(page.getByRole('link', { name: 'Remove filter Type: service' })).toBeVisible();
    expect(params(page).getAll('type')).toEqual(['service']);
  });

  test('the skip link moves focus to the main content (hydrated)', async ({ page }) => {
    // The link is rel="external" so that the router leaves the in-page jump to the browser.
    await open(page, '/catalog');
    await followSkipLink(page);
  });

  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('the skip link moves focus to the main content', async ({ page }) => {
      await page.goto('/catalog');
      await followSkipLink(page);
    });
  });

  test('the search box is exposed as a combobox with its popup state', async ({ page }) => {
    await open(page, '/catalog');
    const box = page.getByRole('combobox', { name: 'Search the catalog' });
    await expect(box).toHaveAttribute('aria-expanded', 'false', { timeout: 2_000 });
    await box.pressSequentially('cart', { delay: 40 });
    await expect(page.getByRole('combobox', { name: 'Search the catalog', expanded: true })).toBeVisible({
      timeout: 5_000,
    });
  });
});
