// The search page in a real browser: the menu's form works without JavaScript, results carry
// marks, and the page passes axe-core (no serious or critical violations) and the Nu HTML
// Checker. The index is built in the background at the server's first start, so the test waits
// until a search stops saying "being prepared".
//
// Run from the repository root:
//   NEWSDESK_BIN=target/debug/newsdesk node --test tests/browser/search.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');

let server;
let browser;
let word = 'health';

async function http(p) {
  const res = await fetch(server.url + p, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

describe('search', () => {
  before(async () => {
    server = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM });
    // A word of a real story: the first word of six letters or more of the first headline.
    const home = await http('/');
    const m = /<h3><a href="[^"]+">(?:[^<:]+: )?([^<]+)<\/a>/.exec(home.body);
    const w = m && m[1].split(/[^\p{L}]+/u).find((x) => x.length >= 6);
    if (w) word = w.toLowerCase();
    // Bounded wait for the first index (built in the background at start).
    for (let i = 0; i < 120; i++) {
      const r = await http(`/search?q=${encodeURIComponent(word)}`);
      if (!r.body.includes('being prepared')) break;
      await new Promise((res) => setTimeout(res, 500));
    }
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('the menu form searches without JavaScript and results are marked', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(server.url + '/', { waitUntil: 'load' });
      await page.fill('#menu-q', word);
      await Promise.all([page.waitForURL(/\/search\?q=/), page.press('#menu-q', 'Enter')]);
      assert.ok((await page.locator('mark').count()) > 0, 'a result with a marked word');
      assert.equal(await page.locator('meta[name="robots"]').getAttribute('content'), 'noindex');
    } finally {
      await context.close();
    }
  });

  for (const p of [() => `/search?q=${encodeURIComponent(word)}`, () => '/search', () => '/search?q=zzqqxx']) {
    it(`axe-core: ${p()}`, { timeout: 45_000 }, async () => {
      const context = await browser.newContext({ bypassCSP: true });
      try {
        const page = await context.newPage();
        await page.goto(server.url + p(), { waitUntil: 'load' });
        await page.addScriptTag({ path: AXE_PATH });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.equal(bad.length, 0, bad.map((v) => `${v.id}: ${v.help}`).join('\n'));
      } finally {
        await context.close();
      }
    });
  }

  it('Nu HTML Checker: the search page is valid HTML', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'newsdesk-vnu-search-'));
    try {
      const files = [];
      for (const [name, p] of [['results', `/search?q=${encodeURIComponent(word)}`], ['empty', '/search'], ['none', '/search?q=zzqqxx']]) {
        const r = await http(p);
        assert.equal(r.status, 200);
        const f = path.join(dir, `${name}.html`);
        writeFileSync(f, r.body);
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
