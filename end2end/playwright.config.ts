// End-to-end tests of Backlot in Debian's Chromium (never a downloaded browser).
//
// By default Playwright starts the portal itself the way README.md's first command does: the
// release build (../target/release/backlot, see .ci/test.sh) with no config file, in a fresh
// working directory, so the data lands in the relative default ./data and every run sees exactly
// the demo organisation. Only BACKLOT_ADDR and BACKLOT_FILE_ROOTS are set (the latter lets tests
// register file:// repositories, and shows that the demo loads whatever the roots say). A real
// `git daemon` serves the repositories the tests make over git://. Point BACKLOT_E2E_URL at a
// portal that is already running to skip all that:
//   BACKLOT_E2E_URL=http://127.0.0.1:3900 npx playwright test
import { defineConfig } from '@playwright/test';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const externalUrl = process.env.BACKLOT_E2E_URL;
const ownPort = 3901;
const baseURL = externalUrl ?? `http://127.0.0.1:${ownPort}`;
const ci = !!process.env.CI;

// A fresh catalog database per run. Playwright loads this file in the runner and in every
// worker; only the runner starts the web server, so the directory is made only when it is needed
// (TEST_WORKER_INDEX is set in workers).
const needsServer = !externalUrl && process.env.TEST_WORKER_INDEX === undefined;
const dataDir = needsServer ? fs.mkdtempSync(path.join(os.tmpdir(), 'backlot-e2e-')) : '';
// The portal's working directory: it writes ./data here, as a user's first run does.
const workDir = dataDir ? path.join(dataDir, 'cwd') : '';
const repoRoot = path.resolve(__dirname, '..');
if (dataDir) {
  fs.mkdirSync(workDir);
  // Git repositories the tests make and register (file:// URLs must be inside the file roots);
  // the workers inherit the variable.
  process.env.BACKLOT_E2E_REPOS = path.join(dataDir, 'repos');
  fs.mkdirSync(process.env.BACKLOT_E2E_REPOS);
  // git:// for the same repositories (a real git daemon on a free port).
  const gitPort = freePort();
  const daemon = spawn(
    'git',
    ['daemon', '--listen=127.0.0.1', `--port=${gitPort}`, `--base-path=${process.env.BACKLOT_E2E_REPOS}`,
      '--export-all', '--reuseaddr', process.env.BACKLOT_E2E_REPOS],
    { stdio: 'ignore', detached: true },
  );
  process.env.BACKLOT_E2E_GIT_DAEMON = `git://127.0.0.1:${gitPort}`;
  // git daemon forks: end its whole process group.
  process.on('exit', () => {
    try {
      process.kill(-daemon.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  // A real kube-apiserver (.ci/start-kube.sh; .ci/kube.sh provides it): the portal finds it
  // through KUBECONFIG, as `KUBECONFIG=… backlot serve` does, and the tests change objects in it.
  const kubeDir = path.join(dataDir, 'kube');
  fs.mkdirSync(kubeDir);
  execFileSync('bash', [path.join(__dirname, '../.ci/start-kube.sh'), kubeDir], { stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.KUBECONFIG = path.join(kubeDir, 'kubeconfig');
  process.on('exit', () => {
    execFileSync('bash', [path.join(__dirname, '../.ci/stop-kube.sh'), kubeDir], {
      stdio: 'ignore',
      env: { ...process.env, STOP_GRACE: '1' },
    });
    // Playwright stops the web server before the runner exits.
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
}

/** A TCP port nothing listens on now (asked of the kernel, in a child so this stays synchronous). */
function freePort(): number {
  const out = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})",
  ]);
  return Number(out.toString().trim());
}

export default defineConfig({
  testDir: 'tests',
  fullyParallel: true,
  forbidOnly: ci,
  workers: 2,
  retries: ci ? 1 : 0,
  reporter: 'list',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL,
    headless: true,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium', viewport: { width: 1280, height: 900 } } }],
  webServer: externalUrl
    ? undefined
    : {
        command: `${repoRoot}/target/release/backlot serve`,
        cwd: workDir,
        url: `http://127.0.0.1:${ownPort}/readyz`,
        env: {
          BACKLOT_ADDR: `127.0.0.1:${ownPort}`,
          BACKLOT_FILE_ROOTS: process.env.BACKLOT_E2E_REPOS ?? '',
          LEPTOS_SITE_ROOT: `${repoRoot}/target/site`,
          BACKLOT_LOG: 'warn',
          KUBECONFIG: process.env.KUBECONFIG ?? '',
        },
        timeout: 120_000,
        reuseExistingServer: !ci,
        stdout: 'ignore',
        stderr: 'pipe',
      },
});
