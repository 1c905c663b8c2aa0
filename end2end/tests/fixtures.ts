// Shared helpers for the end-to-end tests.
//
// `test` is Playwright's test with one automatic check added: a page that throws (an uncaught
// exception or a Rust panic in the hydration wasm, which Leptos logs to the console) fails the
// test that saw it, whatever the test itself asserted.
import { test as base, expect, type Locator, type Page, type Response } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const test = base.extend<{ pageErrors: string[] }>({
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' && /panicked|RuntimeError|unreachable/i.test(m.text())) {
          errors.push(`console: ${m.text()}`);
        }
      });
      await use(errors);
      expect(errors, 'errors thrown in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the wasm has hydrated the page (the app sets this attribute in an effect). */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 20_000 });
}

/** Opens `url` and waits for hydration; returns the navigation's response. */
export async function open(page: Page, url: string): Promise<Response | null> {
  const response = await page.goto(url);
  await hydrated(page);
  return response;
}

/** The catalog table's body rows. */
export function catalogRows(page: Page): Locator {
  return page.getByRole('table').getByRole('rowgroup').nth(1).getByRole('row');
}

/** The text of one column (0-based) of the catalog table, row by row. */
export async function columnTexts(page: Page, column: number): Promise<string[]> {
  const rows = catalogRows(page);
  const n = await rows.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push((await rows.nth(i).getByRole('cell').nth(column).innerText()).trim());
  }
  return out;
}

/** The name column: the link text of each row (the title, or the name when there is none). */
export async function rowNames(page: Page): Promise<string[]> {
  const rows = catalogRows(page);
  const n = await rows.count();
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push((await rows.nth(i).getByRole('cell').first().getByRole('link').first().innerText()).trim());
  }
  return out;
}

/** Column positions in the catalog table. */
export const COL = { name: 0, kind: 1, type: 2, owner: 3, system: 4, lifecycle: 5 } as const;

/** "108 entities" under the catalog heading, as a number. */
export async function entityCount(page: Page): Promise<number> {
  const text = await page.locator('main').getByText(/^\d[\d,\u00a0 ]* entit(y|ies)$/).innerText();
  return Number(text.replace(/[^\d]/g, ''));
}

/** The query parameters of the page's current URL. */
export function params(page: Page): URLSearchParams {
  return new URL(page.url()).searchParams;
}

/** The value cell of a row in a definition list (`<dt>label</dt><dd>…</dd>`) inside `scope`. */
export function definition(scope: Locator, label: string): Locator {
  return scope
    .locator('dl > div')
    .filter({ has: scope.page().getByRole('term').filter({ hasText: new RegExp(`^\\s*${label}\\s*$`, 'i') }) })
    .getByRole('definition');
}

/** A demo descriptor file, for tests that check what the portal says about it. */
export function demoFile(relative: string): string {
  return fs.readFileSync(path.join(__dirname, '..', '..', 'server', 'demo', relative), 'utf8');
}

/**
 * Where the YAML document with `metadata.name: name` sits in a multi-document file: its 1-based
 * index and its first and last line (1-based, between the `---` separators).
 */
export function documentOf(yaml: string, name: string): { index: number; first: number; last: number } {
  const lines = yaml.split('\n');
  let index = 1;
  let first = 1;
  for (let i = 0; i <= lines.length; i++) {
    const end = i === lines.length || /^---\s*$/.test(lines[i]);
    if (!end) continue;
    const doc = lines.slice(first - 1, i);
    if (doc.some((l) => new RegExp(`^  name:\\s*${name}\\s*$`).test(l))) {
      return { index, first, last: i };
    }
    // A leading `---` or a block of comments is no document.
    if (doc.some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) index += 1;
    first = i + 2;
  }
  throw new Error(`no document named ${name}`);
}
