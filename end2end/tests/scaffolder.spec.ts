// The scaffolder's API on the release binary started as README.md starts it: the actions a
// template may use, and a dry-run of a template with a skeleton (the files it would write, its
// log and output; nothing stored).
import { expect, test } from './fixtures';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test.describe('scaffolder API', () => {
  test('lists the actions and dry-runs a template', async ({ request }) => {
    const actions = await request.get('/api/scaffolder/v2/actions');
    expect(actions.status()).toBe(200);
    const ids = (await actions.json()).map((a: { id: string }) => a.id);
    expect(ids).toEqual(expect.arrayContaining(['fetch:template', 'fs:rename', 'catalog:write', 'debug:log']));

    const template = {
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { name: 'e2e' },
      spec: {
        type: 'service',
        parameters: [{ title: 'Name', required: ['name'], properties: { name: { type: 'string' } } }],
        steps: [
          { id: 'fetch', name: 'Fetch', action: 'fetch:template', input: { url: './skeleton', values: { name: '${{ parameters.name }}' } } },
          { id: 'write', action: 'catalog:write', input: { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Component', metadata: { name: '${{ parameters.name }}' } } } },
        ],
        output: { links: [{ title: 'Repository', url: 'https://example.com/${{ parameters.name }}' }] },
      },
    };
    const directoryContents = [{ path: 'skeleton/${{ values.name }}/README.md', base64Content: b64('# ${{ values.name }}\n') }];
    const ran = await request.post('/api/scaffolder/v2/dry-run', {
      data: { template, values: { name: 'orders' }, directoryContents },
    });
    expect(ran.status(), await ran.text()).toBe(200);
    const body = await ran.json();
    const files = Object.fromEntries(
      body.directoryContents.map((f: { path: string; base64Content: string }) => [f.path, Buffer.from(f.base64Content, 'base64').toString()]),
    );
    expect(files['orders/README.md']).toBe('# orders\n');
    expect(files['catalog-info.yaml']).toContain('backstage.io/source-template');
    expect(body.output.links).toEqual([{ title: 'Repository', url: 'https://example.com/orders' }]);
    expect(body.log.map((l: { body: { message: string } }) => l.body.message)).toContain('Beginning step Fetch');

    const refused = await request.post('/api/scaffolder/v2/dry-run', { data: { template, values: {}, directoryContents } });
    expect(refused.status()).toBe(400);
    expect((await refused.json()).errors.map((e: { field: string }) => e.field)).toEqual(['name']);
  });
});
