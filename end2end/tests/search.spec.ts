// Finding an entity by name: the global search box (suggestions while typing, keyboard choice)
// and the full results page.
import { expect, open, params, test } from './fixtures';

test.describe('search', () => {
  test('"/" focuses the search box; suggestions appear while typing; arrow keys and Enter open one', async ({ page }) => {
    await open(page, '/catalog');
    const box = page.getByRole('combobox', { name: 'Search the catalog' });
    const suggestions = page.getByRole('listbox', { name: 'Suggestions' });
    await expect(box).not.toBeFocused();
    await expect(suggestions).toBeHidden();

    // `/` anywhere outside a text field jumps to the box and is not typed into it.
    await page.locator('main').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('/');
    await expect(box).toBeFocused();
    await expect(box).toHaveValue('');

    // A few letters are enough; nothing is submitted, the list updates as the text grows.
    await page.keyboard.type('chec', { delay: 60 });
    await expect(suggestions).toBeVisible();
    await expect(box).toHaveAttribute('aria-expanded', 'true');
    expect(new URL(page.url()).pathname).toBe('/catalog');
    await page.keyboard.type('kout', { delay: 60 });
    const option = suggestions.getByRole('option').filter({ hasText: 'component:default/checkout-service' });
    await expect(option).toBeVisible();
    await expect(suggestions.getByRole('option').filter({ hasText: 'Checkout UI' })).toBeVisible();
    // Suggestions are links to the entities, best matches (by name) first.
    await expect(option.getByRole('link')).toHaveAttribute('href', '/catalog/default/component/checkout-service');
    await expect(suggestions.getByRole('option').first()).toContainText(/checkout/i);
    await expect(suggestions.getByRole('option', { selected: true })).toHaveCount(0);
    await expect(page.getByRole('link', { name: 'See all results for “checkout”' })).toHaveAttribute('href', '/search?q=checkout');

    // Walk down to the Checkout Service with the arrow keys; the box tells assistive technology
    // which option is active.
    const options = await suggestions.getByRole('option').all();
    let index = -1;
    for (let i = 0; i < options.length; i++) {
      if ((await options[i].innerText()).includes('component:default/checkout-service')) index = i;
    }
    expect(index).toBeGreaterThanOrEqual(0);
    for (let i = 0; i <= index; i++) await page.keyboard.press('ArrowDown');
    await expect(option).toHaveAttribute('aria-selected', 'true');
    const optionId = await option.getAttribute('id');
    await expect(box).toHaveAttribute('aria-activedescendant', optionId!);
    await expect(suggestions.getByRole('option', { selected: true })).toHaveCount(1);

    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/catalog\/default\/component\/checkout-service$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Checkout Service');
    // The box is emptied and the list closed after the choice.
    await expect(box).toHaveValue('');
    await expect(suggestions).toBeHidden();
  });

  test('Escape closes the suggestions; Enter without a choice opens the results page', async ({ page }) => {
    await open(page, '/catalog');
    const box = page.getByRole('combobox', { name: 'Search the catalog' });
    const suggestions = page.getByRole('listbox', { name: 'Suggestions' });
    await box.click();
    await box.pressSequentially('payments', { delay: 40 });
    await expect(suggestions.getByRole('option').first()).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(suggestions).toBeHidden();
    await expect(box).toHaveValue('payments');

    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/search\?q=payments$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Search');
    await expect(page.getByRole('status').filter({ hasText: /results? for “payments”/ })).toBeVisible();
  });

  test('the /search page lists hits with links to their pages', async ({ page }) => {
    await open(page, '/search?q=cart');
    await expect(page.getByRole('searchbox', { name: 'Search query' })).toHaveValue('cart');
    const summary = page.getByRole('status').filter({ hasText: /results? for “cart”/ });
    await expect(summary).toBeVisible();
    const n = Number((await summary.innerText()).match(/^(\d+)/)![1]);
    // Entity hits; docs pages that match come in a section of their own below.
    const main = page.locator('main .entity-list');
    const hits = main.getByRole('listitem');
    await expect(hits).toHaveCount(n);
    expect(n).toBeGreaterThan(1);
    await expect(main.getByRole('link', { name: 'Cart API', exact: true })).toHaveAttribute('href', '/catalog/default/api/cart-api');
    await expect(main.getByRole('link', { name: 'Cart Service', exact: true })).toHaveAttribute(
      'href',
      '/catalog/default/component/cart-service',
    );

    // A new query from the page's own form.
    await page.getByRole('searchbox', { name: 'Search query' }).fill('kafka');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: /results? for “kafka”/ })).toBeVisible();
    expect(params(page).get('q')).toBe('kafka');
    await expect(main.getByRole('link', { name: 'Cart API', exact: true })).toHaveCount(0);

    // Following a hit opens the entity.
    await main.getByRole('listitem').first().getByRole('link').first().click();
    await expect(page).toHaveURL(/\/catalog\/default\/[a-z]+\/[\w.-]+$/);
    await expect(page.getByRole('navigation', { name: 'Entity sections' })).toBeVisible();

    // Nothing found says so.
    await open(page, '/search?q=zzzz-no-such-thing');
    await expect(page.getByText('Nothing matches “zzzz-no-such-thing”.')).toBeVisible();
    await expect(main.getByRole('listitem')).toHaveCount(0);
  });

  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('the header search box submits to the results page', async ({ page }) => {
      await page.goto('/catalog');
      const box = page.getByRole('combobox', { name: 'Search the catalog' });
      await box.fill('checkout');
      await box.press('Enter');
      await expect(page).toHaveURL(/\/search\?q=checkout$/);
      await expect(page.getByRole('status').filter({ hasText: /results? for “checkout”/ })).toBeVisible();
      await expect(page.locator('main .entity-list').getByRole('link', { name: 'Checkout Service', exact: true })).toBeVisible();
      // The demo's checkout-service docs match too.
      await expect(page.getByRole('region', { name: /In the docs/ }).getByRole('link', { name: 'Checkout Service' })).toBeVisible();
    });
  });
});
