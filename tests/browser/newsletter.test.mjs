// The newsletter in a real browser (Debian's Chromium driven by playwright-core): subscribing
// from the form in the rail without JavaScript, the confirmation mail (read from the file
// outbox, the default transport), confirming by the page's button, the preference page, and
// axe-core and the Nu HTML Checker on the newsletter's pages.
//
// Run from the repository root:
//   NEWSDESK_BIN=target/debug/newsdesk node --test tests/browser/newsletter.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

let server;
let browser;
/** Pages reached during the flow, checked by axe and Nu at the end. */
const PAGES = { home: '/', form: '/newsletter?edition=south-asia' };

async function withPage(opts, fn) {
  const context = await browser.newContext({ javaScriptEnabled: false, ...opts });
  const page = await context.newPage();
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

/** Quoted-printable soft breaks and escapes undone (enough for the links of a mail). */
function unQp(s) {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
}

/** The outbox's messages to `to`, waiting (bounded) until there is one. */
async function mailTo(to) {
  const dir = path.join(server.dataDir, 'outbox');
  const end = Date.now() + 30_000;
  for (;;) {
    const found = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.eml'))
          .map((f) => readFileSync(path.join(dir, f), 'utf8'))
          .filter((m) => m.includes(`To: ${to}`))
      : [];
    if (found.length || Date.now() > end) return found.map(unQp);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('newsletter', () => {
  before(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('subscribes from the rail without JavaScript, confirms by the button, changes choices', { timeout: 90_000 }, async () => {
    await withPage({}, async (page) => {
      await page.goto(server.url + '/sector/health', { waitUntil: 'load' });
      await page.fill('#rail-email', 'Browser.Reader@example.org');
      await page.check('#rail-weekly');
      await Promise.all([page.waitForNavigation(), page.click('form.subscribe button[type=submit]')]);
      assert.match(await page.textContent('h1'), /Check your inbox/);
      const mails = await mailTo('browser.reader@example.org');
      assert.equal(mails.length, 1, 'one confirmation');
      assert.match(mails[0], /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
      const link = /https?:\/\/\S+?\/newsletter\/confirm\?t=[0-9a-z.]+/.exec(mails[0])[0];
      PAGES.confirm = new URL(link).pathname + new URL(link).search;
      await page.goto(link, { waitUntil: 'load' });
      assert.match(await page.textContent('h1'), /Confirm your subscription/);
      assert.match(await page.textContent('main'), /weekly digest/);
      await Promise.all([page.waitForNavigation(), page.click('main button[type=submit]')]);
      assert.match(await page.textContent('h1'), /You are subscribed/);
      const unsub = /List-Unsubscribe: <(\S+?)>/.exec(mails[0])[1];
      const prefs = unsub.replace('/newsletter/unsubscribe', '/newsletter/preferences');
      PAGES.prefs = new URL(prefs).pathname + new URL(prefs).search;
      await page.goto(prefs, { waitUntil: 'load' });
      await page.check('#nl-daily');
      await Promise.all([page.waitForNavigation(), page.click('button[value=save]')]);
      assert.match(await page.textContent('h1'), /Your choices are saved/);
      assert.equal(await page.isChecked('#nl-daily'), true);
    });
  });

  it('axe-core: no serious or critical violations on the newsletter pages', { timeout: 60_000 }, async () => {
    for (const p of [PAGES.home, PAGES.form, PAGES.prefs]) {
      await withPage({ bypassCSP: true, javaScriptEnabled: true }, async (page) => {
        await page.goto(server.url + p, { waitUntil: 'load' });
        await page.addScriptTag({ path: AXE_PATH });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.equal(bad.length, 0, `axe on ${p}: ${bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`).join('\n')}`);
      });
    }
  });

  it('Nu HTML Checker: the newsletter pages are valid HTML', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'newsdesk-vnu-nl-'));
    try {
      const files = [];
      for (const [name, p] of Object.entries(PAGES)) {
        const res = await fetch(server.url + p, { signal: AbortSignal.timeout(30_000) });
        assert.equal(res.status, 200, `${p}`);
        const f = path.join(dir, `${name}.html`);
        writeFileSync(f, await res.text());
        files.push(f);
      }
      const out = await new Promise((resolve, reject) => {
        const java = spawn('java', ['-jar', VNU_JAR, '--errors-only', '--format', 'json', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        java.stdout.on('data', (d) => (stdout += d));
        java.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => java.kill('SIGKILL'), 100_000);
        java.on('error', reject);
        java.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
      const report = JSON.parse(out.stderr.trim() || out.stdout.trim() || '{"messages":[]}');
      const errors = report.messages.filter((m) => m.type === 'error' || m.type === 'non-document-error');
      assert.deepEqual(errors.map((m) => `${path.basename(new URL(m.url).pathname)}:${m.lastLine}: ${m.message}`), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
