// The real OpenID provider of the sign-in tests (the `oidc-provider` package,
// end2end/oidc/op.mjs), a Backlot configured to sign people in with it, and signing a person in
// through its login and consent pages.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from '@playwright/test';
import { expect } from './fixtures';
import { freePort, type OwnServer, repoRoot, startBacklot, stopBacklot } from './own-server';

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

/** A Backlot with README.md's sign-in section, and the provider it signs people in with. */
export interface SignInBacklot {
  origin: string;
  issuer: string;
  /** The temporary folder holding the working directory and the log; removed by `stop`. */
  tmp: string;
  /** Backlot's working directory: `backlot.yaml` and the relative default `./data`. */
  workDir: string;
  log: string;
  port: number;
  /** The environment Backlot runs with (the config file and the client secret). */
  env: Record<string, string>;
  provider: ChildProcess;
  server?: OwnServer;
}

/**
 * Starts the provider and the release build as README.md starts it, in a working directory of its
 * own (under a temporary folder named after `name`) holding README's `auth:` section with this
 * run's addresses, both on free ports. `extraEnv` is added to Backlot's environment.
 */
export async function startSignInBacklot(
  name: string,
  clientSecret: string,
  extraEnv: Record<string, string> = {},
): Promise<SignInBacklot> {
  const port = await freePort();
  const opPort = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const issuer = `http://127.0.0.1:${opPort}`;
  const provider = await startProvider(opPort, `${origin}/api/auth/oidc/handler/frame`, clientSecret);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `backlot-e2e-${name}-`));
  const workDir = path.join(tmp, 'cwd');
  fs.mkdirSync(workDir);
  fs.writeFileSync(
    path.join(workDir, 'backlot.yaml'),
    [
      'auth:',
      `  base_url: ${origin}`,
      '  providers:',
      '    - id: oidc',
      '      type: oidc',
      `      issuer: ${issuer}`,
      '      client_id: backlot',
      '      client_secret_env: E2E_OIDC_SECRET',
      '',
    ].join('\n'),
  );
  const env = { BACKLOT_CONFIG: 'backlot.yaml', E2E_OIDC_SECRET: clientSecret, ...extraEnv };
  const b: SignInBacklot = { origin, issuer, tmp, workDir, log: path.join(tmp, 'backlot.log'), port, env, provider };
  b.server = await startBacklot(workDir, port, b.log, env);
  return b;
}

/** Stops Backlot and starts it again on the same port, working directory and data. */
export async function restartSignInBacklot(b: SignInBacklot): Promise<void> {
  await stopBacklot(b.server);
  b.server = await startBacklot(b.workDir, b.port, b.log, b.env);
}

/** Stops Backlot and the provider, and removes the temporary folder. */
export async function stopSignInBacklot(b: SignInBacklot | undefined): Promise<void> {
  if (!b) return;
  await stopBacklot(b.server);
  b.provider.kill('SIGTERM');
  fs.rmSync(b.tmp, { recursive: true, force: true });
}
