// Page weight: what each page makes the browser download, measured with the DevTools protocol,
// against the budgets of the browser side (ARCHITECTURE.md, "The browser side"):
// - catalog and entity pages: at most 150 KB of wasm + JS + CSS,
// - the heaviest page: at most 300 KB,
// - pages whose only island is the search box: no wasm or JS at all until the box is used,
// both as transferred (brotli, what Chromium asks for) and as gzip (what any client gets);
// and a repeat visit of an unchanged page moves only its HTML, or a 304.
//
// PAGE_WEIGHT_REPORT=path.json also writes, per page, first and repeat visit bytes and time to
// first paint and to islands awake with the CPU throttled 4× (the table in BENCHMARKS.md).
import type { CDPSession, Page } from '@playwright/test';
import * as fs from 'node:fs';
import { expect, hydrated, test } from './fixtures';

const KB = 1024;
const LIGHT = 150 * KB;
const HEAVIEST = 300 * KB;

// [path, budget, whether the page wakes its islands at once (false: only the search box,
// which loads on first use)]
const PAGES: [string, number, boolean][] = [
  ['/catalog', LIGHT, true],
  ['/catalog?kind=component&type=service', LIGHT, true],
  ['/catalog/default/component/checkout-service', LIGHT, false],
  ['/catalog/default/api/orders-api/api', LIGHT, false],
  ['/catalog/default/component/checkout-service/docs', LIGHT, false],
  ['/catalog/default/component/checkout-service/kubernetes', HEAVIEST, true],
  ['/catalog/default/group/team-checkout', LIGHT, true],
  ['/catalog/default/user/amelia.hart', LIGHT, false],
  ['/search?q=checkout', LIGHT, true],
  ['/', LIGHT, false],
  ['/teams', LIGHT, false],
  ['/docs', LIGHT, false],
  ['/locations', LIGHT, false],
  ['/catalog-errors', LIGHT, false],
  ['/kubernetes', HEAVIEST, true],
  ['/create/edit', LIGHT, false],
  ['/create/templates/default/rust-service', LIGHT, true],
];

const isCode = (t: Transfer) => /\.(js|wasm)$/.test(new URL(t.url).pathname);

type Transfer = { url: string; status: number; bytes: number; cached: boolean };

/** Records every response of the page with the bytes that crossed the wire. */
async function record(page: Page): Promise<{ cdp: CDPSession; transfers: Map<string, Transfer> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const transfers = new Map<string, Transfer>();
  cdp.on('Network.responseReceived', (e) => {
    transfers.set(e.requestId, {
      url: e.response.url,
      status: e.response.status,
      bytes: 0,
      cached: !!(e.response.fromDiskCache || e.response.fromPrefetchCache),
    });
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    const t = transfers.get(e.requestId);
    if (t) t.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const t = transfers.get(e.requestId);
    if (t) t.bytes = t.cached ? 0 : e.encodedDataLength;
  });
  return { cdp, transfers };
}

const isAsset = (t: Transfer) => new URL(t.url).pathname.startsWith('/pkg/');
const sum = (ts: Transfer[]) => ts.reduce((n, t) => n + t.bytes, 0);

async function visit(page: Page, path: string, transfers: Map<string, Transfer>) {
  transfers.clear();
  const response = await page.goto(path);
  await hydrated(page);
  // Late responses (the wasm body) finish before the islands wake; give the events a moment.
  await page.waitForLoadState('networkidle');
  const all = [...transfers.values()];
  return { response, all, assets: all.filter(isAsset) };
}

test.describe('page weight', () => {
  test.describe.configure({ mode: 'serial' });
  const report: Record<string, unknown>[] = [];

  for (const [path, budget, wakes] of PAGES) {
    test(`${path} stays within ${budget / KB} KB, and a repeat visit moves only the page`, async ({ page, request }) => {
      const { cdp, transfers } = await record(page);
      await cdp.send('Network.clearBrowserCache');
      const first = await visit(page, path, transfers);
      expect(first.response?.status()).toBe(200);
      const assetBytes = sum(first.assets);
      expect(assetBytes, `${path}: ${first.assets.map((t) => `${t.url} ${t.bytes}`).join(', ')}`).toBeLessThanOrEqual(budget);
      expect(first.assets.some(isCode), `${path} loads wasm at once`).toBe(wakes);

      // The same files as gzip, for clients that do not take brotli.
      let gzip = 0;
      for (const t of first.assets) {
        const r = await request.get(t.url, { headers: { 'accept-encoding': 'gzip' } });
        expect(r.headers()['content-encoding'], t.url).toBe('gzip');
        // The body Playwright hands over is decoded: the length on the wire is the header's.
        gzip += Number(r.headers()['content-length']);
      }
      expect(gzip, `${path} as gzip`).toBeLessThanOrEqual(budget);

      // Again, unchanged: the files come from the cache, the page is revalidated.
      const repeat = await visit(page, path, transfers);
      expect(repeat.assets.filter((t) => t.bytes > 0), 'files fetched again').toEqual([]);
      const document = repeat.all.find((t) => new URL(t.url).pathname + new URL(t.url).search === path);
      expect([200, 304]).toContain(document?.status);

      if (process.env.PAGE_WEIGHT_REPORT) {
        await cdp.send('Network.clearBrowserCache');
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
        await visit(page, path, transfers);
        const timing = await page.evaluate(() => ({
          fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
          awake: performance.getEntriesByName('islands-awake')[0]?.startTime ?? null,
        }));
        await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
        const html = first.all.find((t) => !isAsset(t) && t.url.endsWith(path));
        report.push({
          path,
          wakes,
          first: sum(first.all),
          html: html?.bytes ?? null,
          assets: assetBytes,
          assetsGzip: gzip,
          repeat: sum(repeat.all),
          repeatStatus: document?.status,
          ...timing,
        });
        fs.writeFileSync(process.env.PAGE_WEIGHT_REPORT, JSON.stringify(report, null, 2));
      }
    });
  }
});

test('a page with only the search box loads its wasm when the box is first used', async ({ page }) => {
  const { transfers } = await record(page);
  await visit(page, '/catalog/default/component/checkout-service', transfers);
  expect([...transfers.values()].filter(isCode)).toEqual([]);
  const box = page.getByRole('combobox', { name: 'Search the catalog' });
  await box.focus();
  await page.keyboard.type('checkout');
  await expect(page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option').first()).toBeVisible();
  expect([...transfers.values()].filter(isCode).length).toBe(2);
  // `/` focuses the box before the wasm is there, too.
  await visit(page, '/docs', transfers);
  await page.keyboard.press('/');
  await expect(box).toBeFocused();
});
