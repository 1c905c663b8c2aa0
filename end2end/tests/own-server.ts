// A test file's own Backlot: the release build started the way README.md starts it (its own
// working directory, the relative default ./data), on a free port, with the environment the
// test gives, logging to a file the test can read. The suite's shared server
// (playwright.config.ts) is not touched.
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const binary = path.join(repoRoot, 'target', 'release', 'backlot');
export const siteRoot = path.join(repoRoot, 'target', 'site');

/** A TCP port nothing listens on now (asked of the kernel). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface OwnServer {
  origin: string;
  process: ChildProcess;
  log: string;
}

/**
 * Starts `backlot serve` in `workDir` on `port` (BACKLOT_ADDR) with `env` added, and waits until
 * /readyz answers 200; the log goes to `log` (appended, so a restart keeps the first run's).
 */
export async function startBacklot(
  workDir: string,
  port: number,
  log: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<OwnServer> {
  const origin = `http://127.0.0.1:${port}`;
  const out = fs.openSync(log, 'a');
  const child = spawn(binary, ['serve', ...args], {
    cwd: workDir,
    env: {
      PATH: process.env.PATH ?? '',
      BACKLOT_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      BACKLOT_LOG: 'warn',
      ...env,
    },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  await untilReady(origin, child, log, 120_000);
  return { origin, process: child, log };
}

async function untilReady(origin: string, server: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`backlot exited with ${server.exitCode}:\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
    }
    try {
      const r = await fetch(`${origin}/readyz`);
      if (r.status === 200) return;
      last = `${r.status} ${await r.text()}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`/readyz not 200 after ${timeoutMs} ms (${last}):\n${fs.readFileSync(log, 'utf8').slice(-3000)}`);
}

/** Stops the server (SIGTERM, SIGKILL after 10 s) and waits until it has exited. */
export async function stopBacklot(server: OwnServer | undefined): Promise<void> {
  const child = server?.process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
