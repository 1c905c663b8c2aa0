// Seeing what is wrong: processing errors on the entity page, the catalog errors page, and the
// 404 page for addresses that lead nowhere.
import { definition, demoFile, documentOf, expect, open, test } from './fixtures';

const CHECKOUT = '/catalog/default/component/checkout-service';

test.describe('errors', () => {
  test("checkout-service shows its processing error first, with file, line and field", async ({ page }) => {
    await open(page, CHECKOUT);
    const alert = page.getByRole('alert', { name: 'Processing problems' });
    await expect(alert).toBeVisible();
    await expect(alert.getByRole('heading')).toHaveText('This entity has 1 processing error');

    // First: before the breadcrumb and the entity's title, in document order and on screen.
    const article = page.locator('main article');
    await expect(article.locator('> *').first()).toHaveAttribute('role', 'alert');
    const alertBox = (await alert.boundingBox())!;
    const titleBox = (await page.getByRole('heading', { level: 1 }).boundingBox())!;
    expect(alertBox.y).toBeLessThan(titleBox.y);

    const problem = alert.getByRole('listitem');
    await expect(problem).toHaveCount(1);
    await expect(problem).toContainText('Error');
    await expect(problem.getByRole('paragraph')).toHaveText(
      'spec.dependsOn[1] refers to component:default/tax-service, which is not in the catalog',
    );

    // Where: the descriptor file, the document in it, a line inside that document, the field.
    const where = documentOf(demoFile('components/checkout.yaml'), 'checkout-service');
    await expect(definition(problem, 'File')).toHaveText(/\/demo\/components\/checkout\.yaml$/);
    await expect(definition(problem, 'Document')).toHaveText(String(where.index));
    const line = Number(await definition(problem, 'Line').innerText());
    expect(line).toBeGreaterThanOrEqual(where.first);
    expect(line).toBeLessThanOrEqual(where.last);
    await expect(definition(problem, 'Field')).toHaveText('spec.dependsOn[1]');

    // The header repeats it as a badge.
    await expect(page.locator('.entity-title-row').getByText('1 error')).toBeVisible();
  });

  test('the catalog errors page lists gift-cards-service and checkout-service', async ({ page }) => {
    await open(page, '/catalog');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Errors' }).click();
    await expect(page).toHaveURL(/\/catalog-errors$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Catalog errors');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Errors' })).toHaveAttribute(
      'aria-current',
      'page',
    );
    await expect(page.getByText(/^2 problems in \d+ locations? and 2 entities$/)).toBeVisible();

    const entities = page.getByRole('region', { name: /^Entities/ });
    const cards = entities.getByRole('article');
    await expect(cards).toHaveCount(2);

    const gift = cards.filter({ hasText: 'component:default/gift-cards-service' });
    await expect(gift.getByRole('heading', { level: 3 }).getByRole('link')).toHaveAttribute(
      'href',
      '/catalog/default/component/gift-cards-service',
    );
    await expect(gift).toContainText('spec.owner refers to group:default/team-gifting, which is not in the catalog');
    await expect(definition(gift, 'Field')).toHaveText('spec.owner');
    const giftDoc = documentOf(demoFile('components/checkout.yaml'), 'gift-cards-service');
    await expect(definition(gift, 'Document')).toHaveText(String(giftDoc.index));

    const checkout = cards.filter({ hasText: 'component:default/checkout-service' });
    await expect(checkout.getByRole('link', { name: 'Checkout Service' })).toHaveAttribute('href', CHECKOUT);
    await expect(checkout).toContainText('component:default/tax-service');
    await expect(definition(checkout, 'Field')).toHaveText('spec.dependsOn[1]');

    // From the list to the entity, where the same problem is shown.
    await gift.getByRole('heading', { level: 3 }).getByRole('link').click();
    await expect(page).toHaveURL(/\/catalog\/default\/component\/gift-cards-service$/);
    await expect(page.getByRole('alert', { name: 'Processing problems' })).toContainText('team-gifting');
  });

  test('an unknown entity answers 404 with a way back', async ({ page }) => {
    const response = await page.goto('/catalog/default/component/no-such-service');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
    await expect(page.getByText('There is no component:default/no-such-service in the catalog.', { exact: false })).toBeVisible();
    await expect(page).toHaveTitle(/Not found/);

    // Other addresses that lead nowhere: an unknown tab, an unknown page.
    const tab = await page.goto(`${CHECKOUT}/no-such-tab`);
    expect(tab?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
    const api = await page.goto(`${CHECKOUT}/api`); // only APIs have an API tab
    expect(api?.status()).toBe(404);
    const other = await page.goto('/no/such/page');
    expect(other?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');

    // The page hydrates and its link leads back.
    await open(page, '/catalog/default/group/no-such-team');
    await page.getByRole('link', { name: 'Back to the catalog' }).click();
    await expect(page).toHaveURL(/\/catalog$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('All entities');
  });
});
