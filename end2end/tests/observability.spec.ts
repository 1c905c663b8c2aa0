// Observability links from configuration: with no config file the demo's link templates are in
// force (server/src/observability/demo.yaml), and the demo's entities carry the annotations they
// read. The entity page shows them beside metadata.links, the team page its own and its
// services' on-call links, and the REST API the same links as JSON.
import type { Page } from '@playwright/test';
import { expect, open, test } from './fixtures';

const CHECKOUT = '/catalog/default/component/checkout-service';

function observability(page: Page) {
  return page.getByRole('region', { name: 'Observability' });
}

test.describe('observability links', () => {
  test("the entity page shows the links the templates make from the entity's annotations", async ({ page }) => {
    await open(page, CHECKOUT);
    const card = observability(page);
    await expect(card.getByRole('link')).toHaveText([
      'Grafana dashboards',
      'Traces (Jaeger)',
      'On-call (PagerDuty)',
      'CI (GitHub Actions)',
    ]);
    // Filled from grafana/dashboard-selector, the name, pagerduty.com/service-id and
    // github.com/project-slug (its slash kept: the template's `path` filter).
    await expect(card.getByRole('link', { name: 'Grafana dashboards' })).toHaveAttribute(
      'href',
      'https://grafana.example.com/dashboards?tag=checkout-service',
    );
    await expect(card.getByRole('link', { name: 'Traces (Jaeger)' })).toHaveAttribute(
      'href',
      'https://jaeger.example.com/search?service=checkout-service&lookback=1h',
    );
    await expect(card.getByRole('link', { name: 'On-call (PagerDuty)' })).toHaveAttribute(
      'href',
      'https://northwind.pagerduty.com/service-directory/PNW1A71',
    );
    const ci = card.getByRole('link', { name: 'CI (GitHub Actions)' });
    await expect(ci).toHaveAttribute('href', 'https://github.com/northwind/checkout-service/actions');
    await expect(ci).toHaveAttribute('target', '_blank');
    // Beside metadata.links, which stay as they were.
    await expect(page.getByRole('region', { name: 'Links' }).getByRole('link', { name: 'Runbook' })).toBeVisible();
  });

  test('an entity without the annotations a template reads does not get its link', async ({ page }) => {
    // fraud-detection has no grafana/dashboard-selector and no pagerduty.com/service-id.
    await open(page, '/catalog/default/component/fraud-detection');
    const card = observability(page);
    await expect(card.getByRole('link')).toHaveText(['Traces (Jaeger)', 'CI (GitHub Actions)']);
    // A library is no service: no traces link.
    await open(page, '/catalog/default/component/payment-provider-adapters');
    await expect(observability(page).getByRole('link')).toHaveText(['CI (GitHub Actions)']);
  });

  test("the team page shows the team's schedule and its services' on-call", async ({ page }) => {
    await open(page, '/catalog/default/group/team-checkout');
    const card = observability(page);
    await expect(card.getByRole('link', { name: 'On-call schedule (Opsgenie)' })).toHaveAttribute(
      'href',
      'https://northwind.app.opsgenie.com/teams/dashboard?name=checkout',
    );
    const service = card.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Cart Service' }) });
    await expect(service.getByRole('link', { name: 'Cart Service' })).toHaveAttribute(
      'href',
      '/catalog/default/component/cart-service',
    );
    await expect(service.getByRole('link', { name: 'On-call (PagerDuty)' })).toHaveAttribute(
      'href',
      'https://northwind.pagerduty.com/service-directory/PNW1A6A',
    );
    // Only on-call links are listed for the services.
    await expect(card.getByRole('link', { name: 'CI (GitHub Actions)' })).toHaveCount(0);
  });

  test('the REST API answers the same links, and 404 in the envelope for an unknown entity', async ({ request }) => {
    const res = await request.get('/api/observability/entities/default/component/checkout-service');
    expect(res.status()).toBe(200);
    const body = await res.json();
    expect(body.entity).toEqual({ kind: 'Component', namespace: 'default', name: 'checkout-service' });
    expect(body.links.map((l: { title: string }) => l.title)).toEqual([
      'Grafana dashboards',
      'Traces (Jaeger)',
      'On-call (PagerDuty)',
      'CI (GitHub Actions)',
    ]);
    expect(body.links[2]).toEqual({
      title: 'On-call (PagerDuty)',
      url: 'https://northwind.pagerduty.com/service-directory/PNW1A71',
      type: 'oncall',
      icon: 'oncall',
    });
    expect(Array.isArray(body.environments)).toBe(true);

    const missing = await request.get('/api/observability/entities/default/component/no-such-thing');
    expect(missing.status()).toBe(404);
    const error = await missing.json();
    expect(error.error.name).toBe('NotFoundError');
    expect(error.response.statusCode).toBe(404);
  });
});
