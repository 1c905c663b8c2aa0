// Template tasks as a user (or a CI pipeline) runs them through the REST API, on the release
// build started the way README.md starts it (its own working directory, relative ./data, no
// config file): the demo's rust-service template creates a repository on the Git host Backlot
// keeps under ./data/repos and registers it, and the new service is in the catalog when the task
// ends; a task running when the process is killed is failed, naming its step, when Backlot
// starts again, and can be retried (it resumes after the steps done) and cancelled.
//
// This server is the test's own (a free port, a fresh temporary directory); the suite's shared
// server (playwright.config.ts) is not touched.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expect, test } from './fixtures';
import { freePort, type OwnServer, startBacklot, stopBacklot } from './own-server';

interface TaskEvent {
  id: number;
  type: string;
  body: { message: string; stepId?: string; status?: string; output?: Record<string, unknown>; error?: { message: string } };
}

test.describe.configure({ mode: 'serial' });

test.describe('template tasks on a fresh Backlot', () => {
  let tmp = '';
  let workDir = '';
  let port = 0;
  let server: OwnServer | undefined;
  let origin = '';

  test.beforeAll(async () => {
    port = await freePort();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-tasks-'));
    workDir = path.join(tmp, 'cwd');
    fs.mkdirSync(workDir);
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'));
    origin = server.origin;
  });

  test.afterAll(async () => {
    await stopBacklot(server);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function events(id: string): Promise<TaskEvent[]> {
    const r = await fetch(`${origin}/api/scaffolder/v2/tasks/${id}/events`);
    expect(r.status).toBe(200);
    return r.json();
  }

  async function until(id: string, done: (e: TaskEvent[]) => boolean, what: string): Promise<TaskEvent[]> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const seen = await events(id);
      if (done(seen)) return seen;
      if (Date.now() > deadline) throw new Error(`${what} never happened: ${JSON.stringify(seen, null, 1)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  test('the demo template creates a repository and a catalog entry', async () => {
    const values = {
      name: 'orders-e2e',
      description: 'Takes orders',
      owner: 'group:default/team-checkout',
      system: 'system:default/checkout',
      repoUrl: 'backlot?owner=checkout&repo=orders-e2e',
      port: 8080,
      environments: ['staging', 'production'],
      ingress: true,
      host: 'orders.example.com',
    };
    const created = await fetch(`${origin}/api/scaffolder/v2/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ templateRef: 'template:default/rust-service', values }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = await created.json();

    // The event stream ends with the completion.
    const stream = await (await fetch(`${origin}/api/scaffolder/v2/tasks/${id}/eventstream`)).text();
    const names = stream.split('\n').filter((l) => l.startsWith('event: ')).map((l) => l.slice(7));
    expect(names.at(-1), stream).toBe('completion');
    const last = (await events(id)).at(-1)!;
    expect(last.body.error, JSON.stringify(last)).toBeUndefined();
    const task = await (await fetch(`${origin}/api/scaffolder/v2/tasks/${id}`)).json();
    expect(task.status).toBe('completed');

    // In the catalog at once, owned by the team, with its docs.
    const entity = await fetch(`${origin}/api/catalog/entities/by-name/component/default/orders-e2e`);
    expect(entity.status).toBe(200);
    const body = await entity.json();
    expect(body.spec.owner).toBe('group:default/team-checkout');
    expect(body.metadata.annotations['backstage.io/kubernetes-id']).toBe('orders-e2e');
    // Where it came from, for a later "update from template": the template and its values.
    expect(body.metadata.annotations['backlot.io/template-ref']).toBe('template:default/rust-service');
    expect(JSON.parse(body.metadata.annotations['backlot.io/template-values'])).toEqual(values);
    const links = (last.body.output as { links: { title: string; url?: string; entityRef?: string }[] }).links;
    expect(links.find((l) => l.title === 'Open in catalog')?.entityRef).toBe('component:default/orders-e2e');

    // The repository is under the relative default ./data of the working directory.
    const bare = path.join(workDir, 'data', 'repos', 'checkout', 'orders-e2e.git');
    expect(fs.existsSync(bare)).toBe(true);
    const clone = path.join(tmp, 'clone');
    execFileSync('git', ['clone', '-q', bare, clone]);
    const deployment = fs.readFileSync(path.join(clone, 'k8s', 'deployment.yaml'), 'utf8');
    expect(deployment).toContain('backstage.io/kubernetes-id: orders-e2e');
    expect(deployment).toContain('host: orders.example.com');
    expect(fs.readFileSync(path.join(clone, '.github', 'workflows', 'ci.yaml'), 'utf8')).toContain('${{ github.sha }}');
    const docs = await fetch(`${origin}/catalog/default/component/orders-e2e/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('Takes orders');

    // Listed among the guest's tasks, completed.
    const list = await (await fetch(`${origin}/api/scaffolder/v2/tasks?status=completed`)).json();
    expect(list.tasks.map((t: { id: string }) => t.id)).toContain(id);
  });

  test('a task running when Backlot is killed is failed at its step on restart, then retried', async () => {
    // A template of the user's own, registered through the API from the data folder.
    const dir = path.join(workDir, 'data', 'e2e-templates', 'slow');
    fs.mkdirSync(path.join(dir, 'skeleton'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'skeleton', 'README.md'), '# ${{ values.name }}\n');
    fs.writeFileSync(
      path.join(dir, 'template.yaml'),
      `apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: slow
spec:
  owner: team-platform
  type: service
  parameters:
    - properties:
        name: { type: string }
  steps:
    - id: fetch
      name: Fetch
      action: fetch:template
      input: { url: ./skeleton, values: { name: '\${{ parameters.name }}' } }
    - id: wait
      name: Wait a long time
      action: debug:wait
      input: { minutes: 5 }
`,
    );
    const registered = await fetch(`${origin}/api/catalog/locations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', target: path.join(dir, 'template.yaml') }),
    });
    expect(registered.status, await registered.clone().text()).toBe(201);
    const created = await fetch(`${origin}/api/scaffolder/v2/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ templateRef: 'slow', values: { name: 'x' } }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = await created.json();
    await until(id, (e) => e.some((x) => x.body.stepId === 'wait' && x.body.status === 'processing'), 'the wait step');

    // Killed mid-step: nothing can be written on the way out.
    const killed = new Promise((resolve) => server!.process.once('exit', resolve));
    server!.process.kill('SIGKILL');
    await killed;
    server = await startBacklot(workDir, port, path.join(tmp, 'backlot.log'));

    const after = await until(id, (e) => e.at(-1)?.type === 'completion', 'the interruption');
    expect(after.at(-1)!.body.message).toContain('interrupted at step Wait a long time');
    expect(after.at(-1)!.body.stepId).toBe('wait');
    let task = await (await fetch(`${origin}/api/scaffolder/v2/tasks/${id}`)).json();
    expect(task.status).toBe('failed');

    // Retried: it runs again (and waits again); cancelled, it stops.
    const retried = await fetch(`${origin}/api/scaffolder/v2/tasks/${id}/retry`, { method: 'POST' });
    expect(retried.status).toBe(201);
    const seen = after.length;
    await until(id, (e) => e.slice(seen).some((x) => x.body.stepId === 'wait' && x.body.status === 'processing'), 'the retry');
    const cancelled = await fetch(`${origin}/api/scaffolder/v2/tasks/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(200);
    // The wait stops early: the worker sees the request at its next heartbeat.
    const end = await until(id, (e) => e.at(-1)?.type === 'cancelled', 'the cancellation');
    expect(end.at(-1)!.body.stepId).toBe('wait');
    task = await (await fetch(`${origin}/api/scaffolder/v2/tasks/${id}`)).json();
    expect(task.status).toBe('cancelled');
  });
});
