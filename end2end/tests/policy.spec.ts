// Permissions, as a user meets them: the release build started the way README.md starts it (its
// own working directory, relative ./data, no config file, no `auth:`) with a policy file in
// BACKLOT_POLICY_FILE. Without sign-in everyone is the guest, and the file's guest rules decide:
// what the guest may not read is absent from every list, count, facet and page (404 by name),
// and registering a location is refused with the rule named, in the REST API and on the
// Locations page. `backlot policy validate` and `backlot policy check` say the same from the
// command line.
//
// This server is the test's own (a free port, a fresh temporary directory); the suite's shared
// server (playwright.config.ts) is not touched.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { APIRequestContext, Page } from '@playwright/test';
import { catalogRows, entityCount, expect, open, test } from './fixtures';
import { binary, freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

// Northwind Outfitters' guests browse the organisation, its systems, APIs and services, but not
// the infrastructure (Resources) nor the payment services (PCI scope: components tagged
// `payments`, all of team-checkout's payment work), and they register nothing. Signed-in
// engineers may register locations for what their team owns (checked with `policy check`).
// An `is_owner` condition can never hold for the guest, so the guest's rules use kind and tags.
const POLICY = `# Northwind Outfitters' portal policy (end2end/tests/policy.spec.ts).
roles:
  guest:
    rules:
      - name: browse
        allow: [catalog.entity.read, catalog.location.read]
      - name: no-infrastructure
        deny: [catalog.entity.read]
        when: { kind: Resource }
      - name: no-payment-internals
        deny: [catalog.entity.read]
        when: { kind: Component, tags: [payments] }
      - name: no-registration-for-guests
        deny: [catalog.location.create]
  member:
    rules:
      - name: read-everything
        allow: [catalog.entity.read, catalog.location.read]
      - name: own-locations
        allow: [catalog.location.create, catalog.location.delete]
        when: { is_owner: true }
bindings:
  - role: member
    signed_in: true
  - role: guest
    guest: true
`;
const REFUSAL = 'DENY catalog.location.create by role guest rule 4 (no-registration-for-guests)';

/** A demo entity as the policy sees it: kind, name and tags (server/demo, parsed by lines). */
interface DemoEntity {
  kind: string;
  name: string;
  tags: string[];
}

/** Every entity of the demo organisation, read from its descriptor files. */
function demoEntities(): DemoEntity[] {
  const root = path.join(repoRoot, 'server', 'demo');
  const files = [
    ...fs.readdirSync(root).map((f) => path.join(root, f)),
    ...fs.readdirSync(path.join(root, 'components')).map((f) => path.join(root, 'components', f)),
    ...fs.readdirSync(path.join(root, 'templates')).map((t) => path.join(root, 'templates', t, 'template.yaml')),
  ].filter((f) => f.endsWith('.yaml'));
  const out: DemoEntity[] = [];
  for (const file of files) {
    for (const doc of fs.readFileSync(file, 'utf8').split(/^---\s*$/m)) {
      if (!/^apiVersion:\s*(scaffolder\.)?backstage\.io\//m.test(doc)) continue;
      const kind = /^kind:\s*(\S+)/m.exec(doc)?.[1];
      const name = /^ {2}name:\s*(\S+)/m.exec(doc)?.[1];
      if (!kind || !name) throw new Error(`${file}: a document without kind or name`);
      const block = /^ {2}tags:\s*\n((?: {4}- .*\n?)+)/m.exec(doc)?.[1] ?? '';
      const tags = block
        .split('\n')
        .map((l) => l.replace(/#.*/, '').replace(/^\s*-\s*/, '').trim())
        .filter(Boolean);
      out.push({ kind, name, tags });
    }
  }
  return out;
}

/** What the policy above lets the guest read. */
function guestMayRead(e: DemoEntity): boolean {
  if (e.kind.toLowerCase() === 'resource') return false;
  if (e.kind.toLowerCase() === 'component' && e.tags.includes('payments')) return false;
  return true;
}

/** Counts by a key, lower-cased (facet values are compared case-insensitively). */
function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v.toLowerCase()] = (out[v.toLowerCase()] ?? 0) + 1;
  return out;
}

function facetMap(list: { value: string; count: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { value, count } of list) out[value.toLowerCase()] = (out[value.toLowerCase()] ?? 0) + count;
  return out;
}

// Set in beforeAll; the tests' `page` and `request` go to this server.
let origin = '';

/** Every item of a by-query answer, following the cursors. */
async function queryAll(
  request: APIRequestContext,
  filter: string,
): Promise<{ totalItems: number; items: { kind: string; metadata: { name: string; tags?: string[] } }[] }> {
  const query = filter ? `filter=${encodeURIComponent(filter)}&` : '';
  let answer = await request.get(`/api/catalog/entities/by-query?${query}limit=20`);
  expect(answer.status(), await answer.text()).toBe(200);
  let body = await answer.json();
  const totalItems: number = body.totalItems;
  const items = [...body.items];
  for (let pages = 0; body.pageInfo?.nextCursor; pages++) {
    expect(pages, 'pages of by-query').toBeLessThan(50);
    answer = await request.get(`/api/catalog/entities/by-query?cursor=${encodeURIComponent(body.pageInfo.nextCursor)}`);
    expect(answer.status(), await answer.text()).toBe(200);
    body = await answer.json();
    items.push(...body.items);
  }
  return { totalItems, items };
}

function kindTab(page: Page, label: string) {
  return page.getByRole('navigation', { name: 'Kinds' }).getByRole('link', { name: new RegExp(`^${label}\\b`) });
}

test.describe('permissions: a policy file for the guest', () => {
  // One server for these tests: they run in order, in one worker.
  test.describe.configure({ mode: 'default' });
  test.use({ baseURL: async ({}, use) => use(origin) });

  let tmp = '';
  let workDir = '';
  let policyFile = '';
  let server: OwnServer | undefined;
  const demo = demoEntities();
  const visible = demo.filter(guestMayRead);
  const hidden = demo.filter((e) => !guestMayRead(e));

  test.beforeAll(async () => {
    test.setTimeout(150_000);
    // The demo data this test relies on (if the demo changes, choose other names here).
    expect(hidden.filter((e) => e.kind === 'Resource').map((e) => e.name)).toContain('payments-db');
    expect(hidden.map((e) => e.name)).toEqual(expect.arrayContaining(['payment-service', 'checkout-service']));
    expect(visible.map((e) => e.name)).toEqual(
      expect.arrayContaining(['legacy-payments', 'order-service', 'team-checkout', 'hannah.okafor']),
    );

    const port = await freePort();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-policy-'));
    workDir = path.join(tmp, 'cwd');
    fs.mkdirSync(workDir);
    policyFile = path.join(tmp, 'policy.yaml');
    fs.writeFileSync(policyFile, POLICY);
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'), { BACKLOT_POLICY_FILE: policyFile });
    origin = server.origin;
    // The relative default ./data of the working directory holds the database and the demo.
    expect(fs.existsSync(path.join(workDir, 'data', 'backlot.db'))).toBe(true);
    expect(fs.existsSync(path.join(workDir, 'data', 'demo', 'catalog-info.yaml'))).toBe(true);
  });

  test.afterAll(async () => {
    await stopBacklot(server);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('REST: hidden entities are absent from lists, counts, facets, relations and by-name', async ({ request }) => {
    // Resources: none, and totalItems agrees.
    const resources = await queryAll(request, 'kind=resource');
    expect(resources.items).toEqual([]);
    expect(resources.totalItems).toBe(0);

    // Components: exactly those without the `payments` tag, and totalItems agrees.
    const components = await queryAll(request, 'kind=component');
    const expectedComponents = visible.filter((e) => e.kind === 'Component').map((e) => e.name).sort();
    expect(components.items.map((e) => e.metadata.name).sort()).toEqual(expectedComponents);
    expect(components.totalItems).toBe(expectedComponents.length);
    expect(components.items.filter((e) => (e.metadata.tags ?? []).includes('payments'))).toEqual([]);

    // Everything: the visible demo and nothing else.
    const all = await queryAll(request, '');
    expect(all.totalItems).toBe(visible.length);
    expect(all.items.length).toBe(visible.length);

    // Facets count only what the guest may read: no Resource kind, no hidden component, and the
    // tags of hidden entities (pci) only where visible entities carry them.
    const facets = await request.get('/api/catalog/entity-facets?facet=kind&facet=metadata.tags');
    expect(facets.status(), await facets.text()).toBe(200);
    const { facets: f } = await facets.json();
    const kinds = facetMap(f.kind);
    expect(kinds).toEqual(countBy(visible.map((e) => e.kind)));
    expect(kinds.resource).toBeUndefined();
    expect(facetMap(f['metadata.tags'])).toEqual(countBy(visible.flatMap((e) => e.tags)));

    // By name: hidden ones are not found, exactly as if they did not exist; others are there.
    for (const ref of ['resource/default/payments-db', 'resource/default/orders-db', 'component/default/payment-service']) {
      const r = await request.get(`/api/catalog/entities/by-name/${ref}`);
      expect(r.status(), ref).toBe(404);
      expect((await r.json()).error.name, ref).toBe('NotFoundError');
    }
    for (const ref of ['component/default/legacy-payments', 'group/default/team-checkout', 'user/default/hannah.okafor']) {
      expect((await request.get(`/api/catalog/entities/by-name/${ref}`)).status(), ref).toBe(200);
    }

    // Relations to hidden entities are left out; the entity's own spec is shown as written.
    const order = await (await request.get('/api/catalog/entities/by-name/component/default/order-service')).json();
    const targets: string[] = order.relations.map((r: { targetRef: string }) => r.targetRef);
    expect(targets).toContain('component:default/service-kit-jvm');
    expect(targets).not.toContain('resource:default/orders-db');
    expect(targets).not.toContain('resource:default/event-bus');
    expect(order.spec.dependsOn).toContain('resource:orders-db');
  });

  test('REST: registering a location is refused with the rule named, and nothing is added', async ({ request }) => {
    // A readable descriptor inside the data directory (where file locations may read without
    // BACKLOT_FILE_ROOTS): only the policy stands in the way.
    const dir = path.join(workDir, 'data', 'incoming-rest');
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(
      target,
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: stock-forecaster\nspec:\n  type: service\n  lifecycle: experimental\n  owner: team-fulfilment\n',
    );
    for (const url of ['/api/catalog/locations', '/api/catalog/locations?dryRun=true']) {
      const refused = await request.post(url, { data: { type: 'file', target } });
      expect(refused.status(), url).toBe(403);
      const body = await refused.json();
      expect(body.error.name).toBe('NotAllowedError');
      expect(body.error.message).toContain('catalog.location.create');
      expect(body.error.message).toContain('no-registration-for-guests');
      expect(body.error.message).toBe(`not allowed: ${REFUSAL}`);
      expect(body.response.statusCode).toBe(403);
    }
    const locations = await (await request.get('/api/catalog/locations')).json();
    expect(JSON.stringify(locations)).toContain('catalog-info.yaml'); // the demo's location is listed
    expect(JSON.stringify(locations)).not.toContain('incoming-rest');
    expect((await request.get('/api/catalog/entities/by-name/component/default/stock-forecaster')).status()).toBe(404);
  });

  test('UI: the catalog lists and counts only what the guest may read', async ({ page }) => {
    const visibleComponents = visible.filter((e) => e.kind === 'Component').length;
    await open(page, '/catalog');
    const tabs = page.getByRole('navigation', { name: 'Kinds' });
    await expect(tabs).toBeVisible();
    await expect(kindTab(page, 'Resources')).toHaveCount(0);
    await expect(kindTab(page, 'Components').locator('.count')).toHaveText(String(visibleComponents));
    await expect(kindTab(page, 'Groups').locator('.count')).toHaveText(
      String(visible.filter((e) => e.kind === 'Group').length),
    );
    expect(await entityCount(page)).toBe(visible.length);
    await expect(kindTab(page, 'All').locator('.count')).toHaveText(String(visible.length));

    // The Resources list, asked for by URL: empty, with no count anywhere for it.
    await open(page, '/catalog?kind=resource');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Resources');
    expect(await entityCount(page)).toBe(0);
    await expect(page.getByText('No entities match these filters.')).toBeVisible();
    await expect(kindTab(page, 'Resources')).toHaveCount(0);

    // Components with "payment": legacy-payments (no `payments` tag) but not the payment services.
    await open(page, '/catalog?kind=component&q=payment');
    const rows = catalogRows(page);
    await expect(rows.locator('a[href="/catalog/default/component/legacy-payments"]')).toHaveCount(1);
    await expect(rows.locator('a[href="/catalog/default/component/payment-service"]')).toHaveCount(0);
    await expect(rows.locator('a[href="/catalog/default/component/payment-provider-adapters"]')).toHaveCount(0);

    // A hidden entity's page is the 404 page, as for one that does not exist.
    const response = await page.goto('/catalog/default/resource/payments-db');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Not found');
    const shown = await page.goto('/catalog/default/component/legacy-payments');
    expect(shown?.status()).toBe(200);
  });

  test('UI: registering an existing repository is refused with the rule named', async ({ page }) => {
    const dir = path.join(workDir, 'data', 'incoming-ui');
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(
      target,
      'apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: returns-portal\nspec:\n  type: website\n  lifecycle: experimental\n  owner: team-fulfilment\n',
    );
    await open(page, '/locations');
    const form = page.getByRole('region', { name: 'Register an existing repository' });
    await form.getByLabel('Type').selectOption('file');
    await form.getByLabel('Repository URL or file').fill(target);
    await form.getByRole('button', { name: 'Register' }).click();

    await expect(page).toHaveURL(/\/locations\?.*error=/);
    const alert = form.getByRole('alert');
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('catalog.location.create');
    await expect(alert).toContainText('no-registration-for-guests');
    await expect(alert).toContainText(REFUSAL);
    // Titled as a refusal, not as a failure.
    await expect(alert).toContainText('Not allowed');
    await expect(alert).not.toContainText('Something went wrong');
    await expect(page.getByTestId('import-outcome')).toHaveCount(0);
    // The form keeps what was typed, and nothing was registered.
    await expect(form.getByLabel('Repository URL or file')).toHaveValue(target);
    await expect(page.locator(`tr[data-location="${target}"]`)).toHaveCount(0);
    await expect(page.locator('tr[data-location]').first()).toBeVisible(); // the demo's location is listed

    // The preview (a dry run of the same registration) is refused the same way.
    await form.getByRole('button', { name: 'Preview' }).click();
    await expect(page).toHaveURL(/\/locations\?.*preview=1/);
    await expect(form.getByRole('alert')).toContainText(REFUSAL);
    await expect(page.getByTestId('import-outcome')).toHaveCount(0);
  });

  test('CLI: policy validate and policy check', async () => {
    const run = (args: string[], env: Record<string, string> = {}) => {
      const r = spawnSync(binary, args, { cwd: workDir, env: { BACKLOT_LOG: 'warn', ...env }, encoding: 'utf8', timeout: 60_000 });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };

    const valid = run(['policy', 'validate', policyFile]);
    expect(valid.out).toContain(`${policyFile}: valid (2 roles, 2 bindings)`);
    expect(valid.status).toBe(0);

    // A typo in a permission name: refused, at its file and line.
    const broken = path.join(tmp, 'broken-policy.yaml');
    const brokenText = POLICY.replace('deny: [catalog.location.create]', 'deny: [catalog.location.craete]');
    expect(brokenText).not.toBe(POLICY);
    fs.writeFileSync(broken, brokenText);
    const line = brokenText.split('\n').findIndex((l) => l.includes('catalog.location.craete')) + 1;
    const invalid = run(['policy', 'validate', broken]);
    expect(invalid.status).not.toBe(0);
    expect(invalid.status).not.toBeNull();
    expect(invalid.out).toContain(`${broken}:${line}:`);
    expect(invalid.out).toContain('unknown permission "catalog.location.craete"');

    // The decisions of the policy in force, on the catalog the server imported into ./data.
    const env = { BACKLOT_POLICY_FILE: policyFile };
    const guest = run(['policy', 'check', '--user', 'guest', '--permission', 'catalog.location.create'], env);
    expect(guest.out).toContain(REFUSAL);
    expect(guest.out).toContain(`policy: ${policyFile}; roles: guest`);
    expect(guest.status).toBe(1);

    // hannah.okafor is in team-checkout (her groups come from the database): she may register a
    // location that provides what team-checkout owns, not one of another team's.
    const hannah = ['policy', 'check', '--user', 'user:default/hannah.okafor', '--permission', 'catalog.location.create'];
    const own = run([...hannah, '--entity', 'component:default/checkout-service'], env);
    expect(own.out).toContain('ALLOW catalog.location.create by role member rule 2 (own-locations)');
    expect(own.status).toBe(0);
    const others = run([...hannah, '--entity', 'component:default/order-service'], env);
    expect(others.out).toContain('DENY catalog.location.create: no rule allows it (roles: member)');
    expect(others.status).toBe(1);
    const lucas = run(
      ['policy', 'check', '--user', 'user:default/lucas.moreno', '--permission', 'catalog.location.create',
        '--entity', 'component:default/checkout-service'],
      env,
    );
    expect(lucas.out).toContain('DENY catalog.location.create: no rule allows it (roles: member)');
    expect(lucas.status).toBe(1);
    // Without an entity the conditional rule cannot apply, and the answer says so.
    const bare = run(hannah, env);
    expect(bare.out).toContain('DENY catalog.location.create: no rule allows it (roles: member)');
    expect(bare.out).toContain('they apply only with --entity');
    expect(bare.status).toBe(1);

    // The server still answers (the CLI shared its database).
    expect((await fetch(`${origin}/readyz`)).status).toBe(200);
  });
});
