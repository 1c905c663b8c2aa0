// The real OpenID provider of the sign-in tests (the `oidc-provider` package,
// end2end/oidc/op.mjs), and signing a person in through its login and consent pages.
import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { repoRoot } from './own-server';

/** The provider on `port`, sending browsers back to `redirectUri`; resolves once it listens. */
export async function startProvider(port: number, redirectUri: string, clientSecret: string): Promise<ChildProcess> {
  const op = spawn(process.execPath, ['oidc/op.mjs'], {
    cwd: path.join(repoRoot, 'end2end'),
    env: { ...process.env, OP_PORT: String(port), OP_REDIRECT_URI: redirectUri, OP_CLIENT_SECRET: clientSecret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the OpenID provider did not start within 20 s')), 20_000);
    op.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    op.once('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}`)));
  });
  return op;
}

/**
 * Signs `login` in to the Backlot at `origin` from its sign-in page, through the provider at
 * `issuer` (its development login accepts any name), and waits to be back on `from`.
 */
export async function signInAs(page: Page, origin: string, issuer: string, login: string, from = '/catalog'): Promise<void> {
  await page.goto(`${origin}/signin?redirect=${encodeURIComponent(from)}`);
  await page.getByRole('link', { name: /Sign in with/ }).first().click();
  await expect(page).toHaveURL(new RegExp(`^${issuer}/`));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await expect(page).toHaveURL(`${origin}${from}`);
}
