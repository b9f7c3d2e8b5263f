// Starts and stops a newsdesk server for the browser tests.
//
// The binary comes from NEWSDESK_BIN (required). A free port is picked first so that
// NEWSDESK_SITE__BASE_URL (canonical and absolute links) can point at the test server itself.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The newsdesk binary named by NEWSDESK_BIN, resolved against the working directory. */
export function newsdeskBin() {
  const bin = process.env.NEWSDESK_BIN;
  if (!bin) {
    throw new Error(
      'NEWSDESK_BIN is not set: build the binary (cargo build --release -p newsdesk) and run e.g. ' +
        'NEWSDESK_BIN=target/release/newsdesk node --test tests/browser/',
    );
  }
  const abs = path.resolve(process.cwd(), bin);
  if (!existsSync(abs)) {
    throw new Error(`NEWSDESK_BIN=${bin} does not exist (resolved to ${abs})`);
  }
  return abs;
}

/**
 * The environment for a newsdesk child process: newsdesk reads every NEWSDESK_* variable as
 * configuration and rejects unknown keys, so the harness's own variables (NEWSDESK_BIN,
 * NEWSDESK_ARTIFACTS, …) are kept from it. `extra` is added on top.
 */
export function childEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NEWSDESK_')));
  return { ...env, ...extra };
}

/**
 * Makes a newsroom account on `dataDir` with the CLI (`newsdesk --data-dir DIR user add`), the
 * password given on standard input. Returns what the CLI printed.
 */
export function addUser(dataDir, { email, password, role = 'author', name = '' }) {
  const args = ['--data-dir', dataDir, 'user', 'add', '--role', role];
  if (name) args.push('--name', name);
  args.push(email);
  const r = spawnSync(newsdeskBin(), args, {
    input: `${password}\n`,
    env: childEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `newsdesk user add ${email} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}).\n` +
        `stdout:\n${r.stdout}\nstderr:\n${String(r.stderr).slice(-4000)}`,
    );
  }
  return r.stdout;
}

/**
 * Reads agency copy into `dataDir` with the CLI (`newsdesk --data-dir DIR ingest FILE…`; each
 * file's agency is its name without the extension). Returns what the CLI printed.
 */
export function ingestFiles(dataDir, files) {
  const r = spawnSync(newsdeskBin(), ['--data-dir', dataDir, 'ingest', ...files], {
    env: childEnv(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error || r.status !== 0) {
    throw new Error(
      `newsdesk ingest ${files.join(' ')} failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}).\n` +
        `stdout:\n${r.stdout}\nstderr:\n${String(r.stderr).slice(-4000)}`,
    );
  }
  return r.stdout;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts `newsdesk serve --demo` on a fresh data dir (or `dataDir`) and resolves once it prints
 * its "newsdesk is serving http://…/" line. Returns { url, dataDir, stop(), log() }.
 *
 * `users` ([{ email, password, role, name }]) are made with the CLI on the data dir before the
 * server starts (accounts are not stories, so `--demo` still fills the empty site), then the agency
 * copy in `ingest` (file paths) is read in with `newsdesk ingest` (wire items are not stories
 * either). The CLI's output is kept as `ingested`.
 */
export async function startServer({ dataDir, demo = true, timeoutMs = 120_000, users = [], ingest = [] } = {}) {
  const bin = newsdeskBin();
  const ownDir = !dataDir;
  const dir = dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'newsdesk-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = ['serve', '--data-dir', dir, '--listen', `127.0.0.1:${port}`];
  if (demo) args.splice(1, 0, '--demo');
  let ingested = '';
  try {
    for (const u of users) addUser(dir, u);
    if (ingest.length) ingested = ingestFiles(dir, ingest);
  } catch (e) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const child = spawn(bin, args, {
    env: childEnv({ NEWSDESK_SITE__BASE_URL: base }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  child.stdout.setEncoding('utf8');

  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`newsdesk did not say it was serving within ${timeoutMs} ms.\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
    }, timeoutMs);
    child.stdout.on('data', (d) => {
      out += d;
      if (out.length > 200_000) out = out.slice(-100_000);
      const m = /newsdesk is serving (http:\/\/\S+?)\/? \(data in/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`newsdesk exited early (code ${code}, signal ${sig}).\nstdout:\n${out}\nstderr:\n${err.slice(-4000)}`));
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });

  let url;
  try {
    url = await started;
  } catch (e) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  async function stop({ keepData = false } = {}) {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killed = await Promise.race([
        exited.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 10_000)),
      ]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    if (ownDir && !keepData) rmSync(dir, { recursive: true, force: true });
  }

  return { url, base, dataDir: dir, stop, log: () => err, pid: child.pid, ingested };
}
