// The wizard once its island is awake, on a fresh Backlot of its own (release build, started the
// way README.md starts it, relative ./data, no config file) with a template and 150 teams
// registered through the REST API: fields are checked as the user types (the island asks the
// server's check, the same code "Next" runs), and the step is posted only when it is right; a choice that reveals
// fields shows them without pressing "Update the form"; an owner picker whose choices do not
// all fit in the page asks the server for those matching what is typed.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, hydrated, test } from './fixtures';
import { freePort, type OwnServer, startBacklot, stopBacklot } from './own-server';

test.describe.configure({ mode: 'serial' });

const TEMPLATE = `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: checked-as-typed
  title: Checked as typed
spec:
  owner: team-platform
  type: service
  parameters:
    - title: About it
      required: [name, owner]
      properties:
        name:
          title: Name
          type: string
          pattern: '^[a-z][a-z0-9-]*$'
          maxLength: 20
          ui:help: lower case letters, digits and dashes
        port:
          title: Port
          type: integer
          maximum: 65535
        owner:
          title: Owner
          type: string
          ui:field: OwnerPicker
          ui:options:
            catalogFilter:
              kind: Group
        public:
          title: Public
          type: boolean
      dependencies:
        public:
          oneOf:
            - properties:
                public: { const: true }
                hostname: { title: Host name, type: string }
              required: [hostname]
            - properties:
                public: { const: false }
  steps:
    - id: log
      name: Say hello
      action: debug:log
      input: { message: 'hello \${{ parameters.name }}' }
`;

function teams(n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const name = `crowd-${String(i).padStart(3, '0')}`;
    return `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: ${name}
spec:
  type: team
  children: []
`;
  }).join('---\n');
}

test.describe('the wizard checks as you type', () => {
  let tmp = '';
  let server: OwnServer | undefined;
  let origin = '';

  test.beforeAll(async () => {
    test.setTimeout(180_000);
    const port = await freePort();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-checks-'));
    const workDir = path.join(tmp, 'cwd');
    fs.mkdirSync(workDir);
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'));
    origin = server.origin;
    // Registered from the data folder, as a user adds files next to the portal.
    const dir = path.join(workDir, 'data', 'e2e-checks');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'template.yaml'), TEMPLATE);
    fs.writeFileSync(path.join(dir, 'teams.yaml'), teams(150));
    for (const file of ['template.yaml', 'teams.yaml']) {
      const r = await fetch(`${origin}/api/catalog/locations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'file', target: path.join(dir, file) }),
      });
      expect(r.status, await r.clone().text()).toBe(201);
    }
  });

  test.afterAll(async () => {
    await stopBacklot(server);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Counts the step posts (not the island's checks) the page makes from now on. */
  function posts(page: Page): () => number {
    let n = 0;
    page.on('request', (r) => {
      if (r.method() === 'POST' && !r.url().endsWith('/check')) n += 1;
    });
    return () => n;
  }

  test('errors show as the user types, and Next posts only a valid step', async ({ page }) => {
    await page.goto(`${origin}/create/templates/default/checked-as-typed`);
    await hydrated(page);
    const posted = posts(page);
    const name = page.locator('#field-name');
    const error = page.locator('#field-name-error');

    // Nothing is said while typing a field for the first time; leaving it checks it.
    await name.pressSequentially('Bad Name');
    await expect(error).toHaveCount(0);
    await name.press('Tab');
    await expect(error).toContainText('Name must match');
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await expect(name).toHaveAttribute('aria-describedby', /field-name-error/);
    // Then every keystroke counts: fixed, the error goes.
    await name.fill('good-name');
    await expect(error).toHaveCount(0);
    await expect(name).not.toHaveAttribute('aria-invalid', 'true');
    await name.fill('much-too-long-a-name-for-this');
    await expect(error).toContainText('at most 20');

    // A number that is not one, reported as the server reports it.
    await page.locator('#field-port').fill('99999');
    await page.locator('#field-port').press('Tab');
    await expect(page.locator('#field-port-error')).toContainText('at most 65535');

    // Next with errors stays here, shows every field's error and goes to the first.
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.locator('#field-owner-error')).toContainText('Owner');
    await expect(name).toBeFocused();
    expect(posted()).toBe(0);

    // Right, it posts, and the server agrees.
    await name.fill('good-name');
    await page.locator('#field-port').fill('8080');
    await page.locator('#field-owner').fill('group:default/crowd-007');
    await expect(page.locator('.field-invalid')).toHaveCount(0);
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect(page.getByRole('heading', { name: 'Review' })).toBeVisible();
    expect(posted()).toBe(1);
  });

  test('a choice that reveals a field shows it at once', async ({ page }) => {
    await page.goto(`${origin}/create/templates/default/checked-as-typed`);
    await hydrated(page);
    await page.locator('#field-name').fill('revealed');
    const host = page.locator('#field-hostname');
    await expect(host).toHaveCount(0);
    await page.getByLabel('Public').check();
    await expect(host).toBeVisible();
    await expect(page.locator('#field-name')).toHaveValue('revealed');
    await hydrated(page);
    await page.getByLabel('Public').uncheck();
    await expect(host).toHaveCount(0);
  });

  test('an owner picker with more teams than the page holds asks for what is typed', async ({ page }) => {
    await page.goto(`${origin}/create/templates/default/checked-as-typed`);
    await hydrated(page);
    const owner = page.locator('#field-owner');
    const options = page.locator('#field-owner-options option');
    await expect(owner).toHaveAttribute('data-suggest', /\/create\/suggest\?/);
    await expect(options).toHaveCount(100);
    // crowd-140 … crowd-149 are beyond the first hundred the page carries.
    await expect(page.locator('#field-owner-options option[value="group:default/crowd-145"]')).toHaveCount(0);
    await owner.pressSequentially('crowd-14');
    await expect(page.locator('#field-owner-options option[value="group:default/crowd-145"]')).toHaveCount(1);
    const values = await options.evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(values).toHaveLength(10);
    expect(values.every((v) => v.startsWith('group:default/crowd-14'))).toBe(true);
  });
});
