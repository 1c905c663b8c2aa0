// The software templates wizard in Chromium, as a person uses it, on the release build started
// as README.md starts it (playwright.config.ts): find the demo's Rust HTTP service template on
// /create, answer its steps (a required field left empty is refused before any post, the owner
// picked from the picker's suggestions, the ingress choice revealing and hiding its host name),
// preview the files on the review, create, follow the task's live log to its end, and reach what
// it made: the new service in the catalog, and its repository on the Git host Backlot keeps
// (cloned over HTTP). Then the template editor dry-runs its example.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, hydrated, open, test } from './fixtures';

test.describe('the templates wizard', () => {
  test('makes a service from the demo template, previewing its files first', async ({ page, baseURL }) => {
    test.setTimeout(90_000);
    const name = `wizard-${Date.now().toString(36)}`;

    // The list, filtered by text.
    await open(page, '/create');
    await expect(page.locator('li.template-card')).toHaveCount(2);
    await page.getByLabel('Filter by text').fill('rust');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/\/create\?q=rust$/);
    await expect(page.locator('li.template-card')).toHaveCount(1);
    await expect(page.getByTestId('template-count')).toHaveText('1 of 2 templates');
    await page.getByRole('link', { name: 'Choose Rust HTTP service' }).click();
    await expect(page).toHaveURL(/\/create\/templates\/default\/rust-service$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Rust HTTP service' })).toBeVisible();

    // The first step with its name left empty: "Next" says what is missing, without a post.
    await page.getByLabel('Description').fill('Takes orders from the wizard');
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.locator('#field-name-error')).toBeVisible();
    await expect(page.locator('#field-name')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('Description')).toHaveValue('Takes orders from the wizard');

    // Fixed; the owner picked from the suggestions the picker offers for what was typed.
    await page.locator('#field-name').fill(name);
    const owner = page.locator('#field-owner');
    const suggestion = page.locator('#field-owner-options option[value="group:default/team-checkout"]');
    await expect(suggestion).toHaveCount(1);
    await expect(page.locator('#field-owner-options option[value^="group:"]')).not.toHaveCount(0);
    await expect(page.locator('#field-owner-options option[value^="user:"]')).toHaveCount(0);
    // The suggestions are a <datalist>, whose pop-up is the browser's own and cannot be driven
    // by Playwright: the test types part of the name, finds the suggestion that matches it as
    // the pop-up would list it, and takes its value, as choosing it does.
    await owner.pressSequentially('team-check');
    const typed = await owner.inputValue();
    const offered = await page
      .locator('#field-owner-options option')
      .evaluateAll((options, t) => options.map((o) => (o as HTMLOptionElement).value).filter((v) => v.includes(t)), typed);
    expect(offered).toEqual(['group:default/team-checkout']);
    await owner.fill(offered[0]);
    await expect(owner).toHaveValue('group:default/team-checkout');
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // The second step: where it runs. Exposing it reveals the host name, and hides it again.
    await expect(page.locator('li.step-current .step-title')).toHaveText('Where it runs');
    await page.locator('#field-repoUrl-host').selectOption('backlot');
    await page.locator('#field-repoUrl-owner').fill('checkout');
    await page.locator('#field-repoUrl-repo').fill(name);
    const host = page.locator('#field-host');
    await expect(host).toHaveCount(0);
    // The island posts the form as the box changes ("Update the form" without JavaScript).
    await page.getByLabel('Expose it outside the cluster').check();
    await expect(host).toBeVisible();
    await expect(page.getByLabel('Expose it outside the cluster')).toBeChecked();
    await expect(page.locator('#field-repoUrl-repo')).toHaveValue(name);
    await hydrated(page);
    await page.getByLabel('Expose it outside the cluster').uncheck();
    await expect(host).toHaveCount(0);
    await hydrated(page);
    await page.getByRole('button', { name: 'Next', exact: true }).click();

    // The review.
    await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
    const review = page.locator('dl.review');
    await expect(review.locator(`dd[data-field="name"]`)).toHaveText(name);
    await expect(review.locator(`dd[data-field="repoUrl"]`)).toHaveText(`backlot?owner=checkout&repo=${name}`);

    // Preview the files: the tree, a file's contents, publishing left for "Create".
    await page.getByRole('button', { name: 'Preview the files' }).click();
    await expect(page).toHaveURL(/#preview$/);
    const preview = page.getByTestId('preview');
    await expect(preview).toBeVisible();
    await expect(preview.getByTestId('preview-error')).toHaveCount(0);
    await expect(preview.getByTestId('file-tree').getByRole('link', { name: 'main.rs' })).toBeVisible();
    await expect(preview.locator('li[data-step="publish"]')).toContainText('skipped');
    const entry = preview.locator('details[data-path="catalog-info.yaml"]');
    await expect(entry.locator('pre')).toBeHidden();
    await entry.locator('summary').click();
    await expect(entry.locator('pre')).toBeVisible();
    // catalog:write's entity, with the annotations that record where it came from.
    await expect(entry.locator('pre')).toContainText(`name: ${name}\n`);
    await expect(entry.locator('pre')).toContainText('owner: group:default/team-checkout\n');
    await expect(entry.locator('pre')).toContainText('backlot.io/template-ref: template:default/rust-service');
    // Still the review, with the same values.
    await expect(review.locator(`dd[data-field="name"]`)).toHaveText(name);

    // Create: the task page follows the run live to its end.
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page).toHaveURL(/\/create\/tasks\/[0-9a-f-]+$/);
    await expect(page.locator('.task')).toHaveAttribute('data-status', 'completed', { timeout: 30_000 });
    const log = page.getByTestId('task-log');
    await expect(log).toContainText('Finished step Register in the catalog');
    await expect(page.locator('li[data-step="publish"]')).toContainText('completed');

    // The output: the repository's clone URL, and the new service in the catalog.
    const output = page.locator('.task-output');
    const repository = output.getByRole('link', { name: 'Repository', exact: true });
    const cloneUrl = await repository.getAttribute('href');
    expect(cloneUrl).toBe(`${baseURL}/git/checkout/${name}.git`);
    await output.getByRole('link', { name: 'Open in catalog' }).click();
    await expect(page).toHaveURL(new RegExp(`/catalog/default/component/${name}$`));
    await expect(page.getByRole('heading', { level: 1 })).toContainText(name);
    await expect(page.getByText('Takes orders from the wizard').first()).toBeVisible();
    const source = page.getByTestId('repository-card');
    await expect(source).toContainText(`checkout/${name}.git`);
    await expect(source).toContainText('catalog-info.yaml');

    // The repository is real: cloned from the URL the task gave.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-wizard-'));
    try {
      execFileSync('git', ['clone', '-q', cloneUrl!, path.join(tmp, 'clone')], { timeout: 20_000 });
      const info = fs.readFileSync(path.join(tmp, 'clone', 'catalog-info.yaml'), 'utf8');
      expect(info).toMatch(new RegExp(`^  name: ${name}$`, 'm'));
      expect(info).toContain('backlot.io/template-ref: template:default/rust-service');
      expect(fs.existsSync(path.join(tmp, 'clone', 'src', 'main.rs'))).toBe(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('the template editor dry-runs a pasted template', async ({ page }) => {
    await open(page, '/create');
    await page.getByRole('link', { name: 'Template editor' }).click();
    await expect(page).toHaveURL(/\/create\/edit$/);
    // Its example, as it is: the files it would write.
    await page.getByRole('button', { name: 'Dry-run' }).click();
    await expect(page.getByTestId('template-valid')).toBeVisible();
    const readme = page.locator('details[data-path="README.md"]');
    await readme.locator('summary').click();
    await expect(readme.locator('pre')).toContainText('# hello-world');
    // A mistake: named with its line, and no dry-run.
    const template = page.getByLabel('Template (YAML)');
    await template.fill((await template.inputValue()).replace('action: debug:log', 'action: debug:nothing'));
    await page.getByRole('button', { name: 'Dry-run' }).click();
    await expect(page.getByTestId('template-problems')).toContainText(/line \d+: spec\.steps\[1\]\.action: unknown action/);
    await expect(page.getByTestId('preview')).toHaveCount(0);
  });
});
