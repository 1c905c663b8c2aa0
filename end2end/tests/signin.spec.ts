// Sign-in as a person meets it, against a real OpenID provider (the `oidc-provider` package,
// end2end/oidc/op.mjs) and the release build started in its own working directory with the
// relative default ./data and the `auth:` section of README.md in a config file there.
//
// Hannah (team-checkout) signs in through the provider's login and consent pages, sees her name
// and her team, finds what her team owns with "Owned by me or my teams", and registers a
// location for something team-checkout owns (the default policy's own-locations rule). Lucas
// (team-storefront) is refused the same registration, with the decision named. Her session
// survives a restart of Backlot (sessions are in the database); signing out ends it on the
// server, so the old cookie no longer signs anyone in. Nothing in the server's log carries the
// session cookie or the client secret.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type BrowserContext, type Page, request as playwrightRequest } from '@playwright/test';
import { catalogRows, columnTexts, expect, open, test } from './fixtures';
import { restartSignInBacklot, type SignInBacklot, signInAs, startSignInBacklot, stopSignInBacklot } from './oidc';

const CLIENT_SECRET = 'e2e-oidc-client-secret-7c1f';

let origin = '';
let issuer = '';

/** The session cookie of a browser context. */
async function sessionCookie(context: BrowserContext) {
  const cookie = (await context.cookies(origin)).find((c) => c.name === 'backlot_session');
  expect(cookie, 'a session cookie').toBeDefined();
  return cookie!;
}

/** Registers a file location from the Locations page's form; returns the page's alert text or ''. */
async function register(page: Page, target: string): Promise<void> {
  await page.goto('/locations');
  const form = page.getByRole('region', { name: 'Register an existing repository' });
  await form.getByLabel('Type').selectOption('file');
  await form.getByLabel('Repository URL or file').fill(target);
  await form.getByRole('button', { name: 'Register' }).click();
}

test.describe('sign-in with a real OpenID provider', () => {
  test.describe.configure({ mode: 'default' });
  test.use({ baseURL: async ({}, use) => use(origin) });

  let b: SignInBacklot | undefined;

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    b = await startSignInBacklot('signin', CLIENT_SECRET, { BACKLOT_LOG: 'info' });
    origin = b.origin;
    issuer = b.issuer;
  });

  test.afterAll(async () => {
    await stopSignInBacklot(b);
  });

  test('sign in, see who you are and what your team owns, sign out', async ({ page, context }) => {
    test.setTimeout(120_000);
    await signInAs(page, origin, issuer, 'hannah.okafor');
    const header = page.getByRole('banner');
    await expect(header).toContainText('Hannah Okafor');
    await expect(header.getByRole('link', { name: 'Sign in' })).toHaveCount(0);

    // Who Backstage's userinfo says she is: her user and her team.
    const info = await page.request.get('/api/auth/v1/userinfo');
    expect(info.status()).toBe(200);
    expect(await info.json()).toEqual({
      claims: { sub: 'user:default/hannah.okafor', ent: ['user:default/hannah.okafor', 'group:default/team-checkout'] },
    });

    // Owned by me or my teams: what team-checkout owns, nothing of another team's.
    await open(page, '/catalog?kind=component');
    await page.getByRole('checkbox', { name: 'Owned by me or my teams' }).check();
    await expect(page).toHaveURL(/owned=1/);
    const rows = catalogRows(page);
    await expect(rows.locator('a[href="/catalog/default/component/checkout-service"]')).toHaveCount(1);
    await expect(rows.locator('a[href="/catalog/default/component/order-service"]')).toHaveCount(0);
    const owners = await columnTexts(page, 3);
    expect(owners.length).toBeGreaterThan(0);
    expect(new Set(owners)).toEqual(new Set(['team-checkout']));
    await expect(page.getByRole('list', { name: 'Active filters' })).toContainText('Owned by me or my teams');

    // The entity page says what she may do, and which rule says so.
    await page.goto('/catalog/default/component/checkout-service');
    const access = page.getByRole('region', { name: 'What you may do' });
    await expect(access.locator('[data-permission="catalog.entity.refresh"]')).toContainText('Allowed');
    await expect(access.locator('[data-permission="catalog.entity.refresh"]')).toContainText('rule 2 (refresh)');

    // A location for something her team owns: the default policy's own-locations rule allows it.
    const dir = path.join(b!.workDir, 'data', 'incoming-hannah');
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(
      target,
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: gift-cards\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-checkout\n',
    );
    await register(page, target);
    await expect(page).toHaveURL(/\/locations\?.*registered=1/);
    await expect(page.locator(`tr[data-location="${target}"]`)).toHaveCount(1);
    expect((await page.request.get('/api/catalog/entities/by-name/component/default/gift-cards')).status()).toBe(200);

    // An API token for a script, made on the settings page and shown once: it reads as Hannah,
    // and is refused what its scope does not cover, naming the scope.
    await page.goto('/settings/tokens');
    await page.getByLabel('Name').fill('e2e-script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').locator('code.token-value').innerText()).trim();
    expect(token).toMatch(/^blt_/);
    const api = await playwrightRequest.newContext({ baseURL: origin });
    const bearer = { Authorization: `Bearer ${token}` };
    const read = await api.get('/api/catalog/entities/by-name/component/default/checkout-service', { headers: bearer });
    expect(read.status()).toBe(200);
    const refused = await api.post('/api/catalog/refresh', {
      headers: bearer,
      data: { entityRef: 'component:default/checkout-service' },
    });
    expect(refused.status()).toBe(403);
    expect((await refused.json()).error.message).toContain('refresh');
    expect((await api.get('/api/catalog/entities', { headers: { Authorization: 'Bearer blt_not-a-token' } })).status()).toBe(401);
    await page.reload();
    await expect(page.getByTestId('new-token')).toHaveCount(0);
    await expect(page.getByText(token)).toHaveCount(0);

    // Her session is in the database: it survives a restart of Backlot.
    const before = await sessionCookie(context);
    await restartSignInBacklot(b!);
    await page.goto('/catalog');
    await expect(page.getByRole('banner')).toContainText('Hannah Okafor');

    // The user menu: her profile, her groups, API tokens, sign out.
    const menu = page.getByRole('banner').locator('details.user-menu');
    await menu.locator('summary').click();
    await expect(menu.getByRole('link', { name: 'Profile' })).toHaveAttribute('href', '/catalog/default/user/hannah.okafor');
    await expect(menu.getByRole('link', { name: 'API tokens' })).toBeVisible();

    // Signing out ends the session on the server: the old cookie signs no one in.
    await menu.getByRole('button', { name: 'Sign out' }).click();
    await expect(page.getByRole('banner')).not.toContainText('Hannah Okafor');
    expect((await page.request.get('/api/auth/v1/userinfo')).status()).toBe(401);
    const replay = await page.request.get('/api/auth/v1/userinfo', {
      headers: { cookie: `backlot_session=${before.value}` },
    });
    expect(replay.status(), 'the signed-out cookie').toBe(401);

    // The log names who signed in and out, never the cookie or the secret.
    const written = fs.readFileSync(b!.log, 'utf8');
    expect(written).toContain('signed in');
    expect(written).not.toContain(before.value);
    expect(written).not.toContain(CLIENT_SECRET);
    expect(written).not.toContain(token);
    await api.dispose();
  });

  test("an owner-only action is refused for someone outside the owning team, with the decision named", async ({ page }) => {
    test.setTimeout(120_000);
    await signInAs(page, origin, issuer, 'lucas.moreno');
    await expect(page.getByRole('banner')).toContainText('Lucas Moreno');
    const dir = path.join(b!.workDir, 'data', 'incoming-lucas');
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(
      target,
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: store-credit\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-checkout\n',
    );
    await register(page, target);
    await expect(page).toHaveURL(/\/locations\?.*error=/);
    const alert = page.getByRole('region', { name: 'Register an existing repository' }).getByRole('alert');
    await expect(alert).toContainText('Not allowed');
    await expect(alert).toContainText('DENY catalog.location.create: no rule allows it (roles: member)');
    expect((await page.request.get('/api/catalog/entities/by-name/component/default/store-credit')).status()).toBe(404);
  });
});
