// Registering an existing repository from the UI: preview, register, see its entity, its
// source and its docs (rendered on the server, with the repository's script removed).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, open, test } from './fixtures';

function git(cwd: string, ...args: string[]) {
  execFileSync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'E2E',
      GIT_AUTHOR_EMAIL: 'e2e@example.com',
      GIT_COMMITTER_NAME: 'E2E',
      GIT_COMMITTER_EMAIL: 'e2e@example.com',
    },
    stdio: 'pipe',
  });
}

/** The same repository over git://, from the real git daemon Playwright starts. */
function daemonUrl(fileUrl: string): string {
  const daemon = process.env.BACKLOT_E2E_GIT_DAEMON;
  if (!daemon) throw new Error('BACKLOT_E2E_GIT_DAEMON is not set (the test needs the portal Playwright starts)');
  return `${daemon}/${path.basename(fileUrl)}`;
}

/** A bare repository with a component, mkdocs.yml and two pages; returns its file:// URL. */
function makeRepository(name: string): string {
  const root = process.env.BACKLOT_E2E_REPOS;
  if (!root) throw new Error('BACKLOT_E2E_REPOS is not set (the test needs the portal Playwright starts)');
  const bare = path.join(root, `${name}.git`);
  const work = path.join(root, `${name}-work`);
  fs.mkdirSync(path.join(work, 'docs', 'img'), { recursive: true });
  const files: Record<string, string> = {
    'catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${name}
  description: Checkout for the shop
  annotations:
    backstage.io/techdocs-ref: dir:.
spec:
  type: service
  lifecycle: production
  owner: team-a
`,
    'mkdocs.yml': `site_name: Shop handbook
nav:
  - Home: index.md
  - Running it: running.md
`,
    'docs/index.md': `# Shop handbook

Welcome. See [how to run it](running.md#locally).

![diagram](img/arch.png)

<script>window.__pwned = 1</script>
`,
    'docs/running.md': '# Running it\n\n## Locally\n\n```rust\nfn main() { println!("hi"); }\n```\n',
  };
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(work, file), text);
  // A 1×1 PNG.
  fs.writeFileSync(
    path.join(work, 'docs', 'img', 'arch.png'),
    Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64'),
  );
  git(root, 'init', '--quiet', '--bare', '-b', 'main', bare);
  git(work, 'init', '--quiet', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'push', '--quiet', bare, 'HEAD:main');
  return `file://${bare}`;
}

test.describe('git repositories', () => {
  test.skip(!!process.env.BACKLOT_E2E_URL, 'needs the portal Playwright starts');

  test('register a repository from the UI, then see its entity, source and docs', async ({ page }) => {
    const name = `e2e-shop-${Date.now()}`;
    const url = makeRepository(name);
    await open(page, '/locations');
    const form = page.getByRole('region', { name: 'Register an existing repository' });
    await form.getByLabel('Repository URL or file').fill(url);

    await form.getByRole('button', { name: 'Preview' }).click();
    const outcome = page.getByTestId('import-outcome');
    await expect(outcome).toContainText('Preview: registering it would import 1 entity');
    await expect(outcome).toContainText(name);

    await form.getByRole('button', { name: 'Register' }).click();
    await expect(outcome).toContainText('Registered: 1 entity imported');
    await expect(page.locator(`tr[data-location="${url}"]`)).toContainText('OK');

    await outcome.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
    const source = page.getByTestId('repository-card');
    await expect(source).toContainText(url);
    await expect(source).toContainText('catalog-info.yaml');

    await page.getByRole('navigation', { name: 'Entity sections' }).getByRole('link', { name: 'Docs' }).click();
    await expect(page).toHaveURL(new RegExp(`/catalog/default/component/${name}/docs$`));
    const article = page.locator('.docs-content');
    await expect(article.getByRole('heading', { name: 'Shop handbook' })).toBeVisible();
    const img = article.locator('img');
    await expect(img).toHaveAttribute('src', `/docs-assets/default/component/${name}/docs/img/arch.png`);
    expect(await img.evaluate((i: HTMLImageElement) => i.naturalWidth)).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await expect(article.locator('script')).toHaveCount(0);

    await page.getByRole('navigation', { name: 'Documentation' }).getByRole('link', { name: 'Running it' }).click();
    await expect(page).toHaveURL(new RegExp(`/catalog/default/component/${name}/docs/running$`));
    await expect(article.getByRole('heading', { name: 'Locally' })).toBeVisible();
    await expect(article.locator('pre.code [class*="hl-"]').first()).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'On this page' })).toContainText('Locally');

    // Backstage's docs URL leads to the same page; the docs index lists the site.
    await open(page, `/docs/default/component/${name}/running`);
    await expect(page).toHaveURL(new RegExp(`/catalog/default/component/${name}/docs/running$`));
    await open(page, '/docs');
    await expect(page.getByRole('link', { name: 'Shop handbook' }).first()).toBeVisible();
    // The global search finds the docs page too.
    await open(page, `/search?q=${encodeURIComponent('println hi')}`);
    const inDocs = page.getByRole('region', { name: /In the docs/ });
    // Other tests register repositories with the same docs: this one's page is among the hits.
    await expect(inDocs.locator(`a[href*="/${name}/"]`, { hasText: 'Running it' })).toBeVisible();
  });

  // What a new user does first: the portal runs as README.md starts it (relative ./data), and a
  // repository on a Git server is registered from the Locations page.
  test('register a repository served by git daemon from the UI', async ({ page }) => {
    const name = `e2e-daemon-ui-${Date.now()}`;
    const url = daemonUrl(makeRepository(name));
    await open(page, '/locations');
    const form = page.getByRole('region', { name: 'Register an existing repository' });
    await form.getByLabel('Repository URL or file').fill(url);
    await form.getByRole('button', { name: 'Register' }).click();
    const outcome = page.getByTestId('import-outcome');
    await expect(outcome).toContainText('Registered: 1 entity imported');
    await expect(page.locator(`tr[data-location="${url}"]`)).toContainText('OK');
    await outcome.getByRole('link', { name }).click();
    await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
    await expect(page.getByTestId('repository-card')).toContainText(url);
  });

  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    // The Locations page's forms are plain HTML: preview (GET), register and refresh (POST,
    // answered with a redirect back) work the same with no script at all.
    test('preview, register and refresh a repository served by git daemon', async ({ page }) => {
      const name = `e2e-nojs-${Date.now()}`;
      const url = daemonUrl(makeRepository(name));
      await page.goto('/locations');
      const form = page.getByRole('region', { name: 'Register an existing repository' });
      await form.getByLabel('Repository URL or file').fill(url);
      await form.getByRole('button', { name: 'Preview' }).click();
      const outcome = page.getByTestId('import-outcome');
      await expect(outcome).toContainText('Preview: registering it would import 1 entity');
      await expect(form.getByLabel('Repository URL or file')).toHaveValue(url);

      await form.getByRole('button', { name: 'Register' }).click();
      await expect(outcome).toContainText('Registered: 1 entity imported');
      // A reload shows the page again; it does not post again.
      const reloaded = await page.reload();
      expect(reloaded?.request().method()).toBe('GET');

      const row = page.locator(`tr[data-location="${url}"]`);
      await expect(row).toContainText('OK');
      await row.getByRole('button', { name: 'Refresh now' }).click();
      await expect(page.getByTestId('refresh-outcome')).toContainText(`Refreshed ${url}: it provides 1 entity.`);

      // Registering something unreadable says why, with the form still filled in.
      await form.getByLabel('Repository URL or file').fill('not a url');
      await form.getByRole('button', { name: 'Register' }).click();
      await expect(page.getByRole('alert')).toBeVisible();
      await expect(form.getByLabel('Repository URL or file')).toHaveValue('not a url');
    });
  });

  test('register a repository served by git daemon through the REST API', async ({ request }) => {
    const name = `e2e-daemon-api-${Date.now()}`;
    const url = daemonUrl(makeRepository(name));
    const created = await request.post('/api/catalog/locations', { data: { type: 'git', target: url } });
    expect(created.status(), await created.text()).toBe(201);
    const body = await created.json();
    expect(body.entities.map((e: { metadata: { name: string } }) => e.metadata.name)).toEqual([name]);
    const entity = await request.get(`/api/catalog/entities/by-name/component/default/${name}`);
    expect(entity.status()).toBe(200);
    // The location read cleanly at a commit (a relative mirror path once broke this).
    const location = await request.get(`/api/catalog/locations/${body.location.id}`);
    expect(location.status()).toBe(200);
    const status = (await location.json()).status;
    expect(status.error).toBeNull();
    expect(status.problems).toBe(0);
    expect(status.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  test('the demo loads although BACKLOT_FILE_ROOTS confines API registrations', async ({ request }) => {
    const errors = await (await request.get('/catalog-errors')).text();
    expect(errors).not.toContain('outside the directories');
    const demo = await request.get('/api/catalog/entities/by-query?filter=kind=group&limit=1');
    expect((await demo.json()).totalItems).toBe(12);
    // A file outside the roots is still refused when it arrives through the API.
    const refused = await request.post('/api/catalog/locations', {
      data: { type: 'file', target: '/etc/catalog-info.yaml' },
    });
    expect(refused.status()).toBe(403);
  });
});
