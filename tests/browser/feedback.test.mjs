// The feedback desk in a real browser: readers send the XSS payload list through the feedback
// form (name, message and the page it was sent from), and an editor reads the queue and every
// message: nothing runs, nothing becomes markup, and the text reads back as typed. Then axe-core
// (no serious or critical violations) and the Nu HTML Checker on the form, a refused form, the
// answer to an address over its hourly limit, the newsroom's queue and one message (payloads and all).
//
// Run from the repository root:
//   NEWSDESK_BIN=target/debug/newsdesk node --test tests/browser/feedback.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';
import { PAYLOADS } from './payloads.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
const EDITOR = { email: 'editor@example.org', password: 'a long enough password', role: 'editor', name: 'Eddie Editor' };
/** The form refuses what is sent sooner than this after it was shown (the default setting). */
const FILL_MS = 3_500;

let server;
let browser;

/** Packs `items` into strings of at most `limit` characters. */
function pack(items, limit, sep) {
  const out = [];
  let cur = '';
  for (const it of items) {
    if ([...it].length > limit) continue;
    const next = cur ? cur + sep + it : it;
    if ([...next].length <= limit) cur = next;
    else {
      out.push(cur);
      cur = it;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Any sign of a payload at work on a page: dialogs, page errors, CSP complaints. */
function watch(page, problems) {
  page.on('dialog', async (d) => {
    problems.push(`a ${d.type()} dialog said ${JSON.stringify(d.message())} on ${page.url()}`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to|alert\(/i.test(m.text())) problems.push(`console: ${m.text()} on ${page.url()}`);
  });
}

/** Runs in the page: markup that is only there if hostile text became markup. */
function hostileMarkup() {
  const out = [];
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName;
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      if (n.startsWith('on') || n === 'srcdoc' || n === 'autofocus' || n === 'http-equiv') out.push(`<${tag} ${n}>`);
      if (['href', 'src', 'action', 'formaction', 'data'].includes(n) && /^\s*(javascript|data):/i.test(a.value)) out.push(`<${tag} ${n}=${a.value}>`);
    }
    if (['iframe', 'object', 'embed', 'svg', 'math', 'style', 'base'].includes(tag)) out.push(`<${tag}> element`);
    if (tag === 'script' && (!el.src || new URL(el.src).origin !== location.origin)) out.push('inline script');
  }
  return out;
}

describe('the feedback desk', () => {
  before(async () => {
    server = await startServer({ users: [EDITOR] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('XSS payloads sent as feedback are shown to editors as text', { timeout: 240_000 }, async () => {
    const problems = [];
    const names = pack(PAYLOADS, 200, ' ');
    const message = PAYLOADS.join('\n');
    // One address may send ten messages an hour: the payloads fit in fewer.
    assert.ok(names.length <= 8, `${names.length} forms would pass the hourly limit`);
    const from = '/"><script>alert(150)</script>';
    const reader = await browser.newPage();
    watch(reader, problems);
    for (const [i, name] of names.entries()) {
      await reader.goto(`${server.url}/feedback?from=${encodeURIComponent(from)}`);
      await reader.fill('#fb-name', name);
      await reader.fill('#fb-message', `${i}: ${message}`);
      await reader.waitForTimeout(FILL_MS);
      await Promise.all([reader.waitForLoadState('load'), reader.click('form:has(#fb-message) button[type=submit]')]);
      const said = await reader.textContent('main');
      assert.match(said, /Thank you/, `form ${i} was not taken: ${said}`);
      assert.deepEqual(await reader.evaluate(hostileMarkup), [], `reader page after form ${i}`);
    }
    // A refused form comes back with the payloads kept as typed.
    await reader.goto(`${server.url}/feedback`);
    await reader.fill('#fb-message', message);
    await reader.fill('#fb-email', 'not-an-address@');
    await reader.evaluate(() => document.querySelector('#fb-email').setAttribute('type', 'text'));
    await Promise.all([reader.waitForLoadState('load'), reader.click('form:has(#fb-message) button[type=submit]')]);
    assert.equal(await reader.inputValue('#fb-message'), message, 'what was typed is kept');
    assert.deepEqual(await reader.evaluate(hostileMarkup), [], 'refused form');

    const desk = await browser.newPage();
    watch(desk, problems);
    await desk.goto(`${server.url}/newsroom/login`);
    await desk.fill('#email', EDITOR.email);
    await desk.fill('#password', EDITOR.password);
    await Promise.all([desk.waitForURL((u) => u.pathname === '/newsroom', { timeout: 30_000 }), desk.click('button[type=submit]')]);
    await desk.goto(`${server.url}/newsroom/feedback`);
    const links = await desk.$$eval('td a[href^="/newsroom/feedback/"]', (as) => as.map((a) => a.getAttribute('href')));
    assert.equal(links.length, names.length, 'every message is in the queue');
    assert.deepEqual(await desk.evaluate(hostileMarkup), [], 'the queue');
    const seen = new Set();
    for (const href of links) {
      await desk.goto(server.url + href);
      assert.deepEqual(await desk.evaluate(hostileMarkup), [], href);
      const heading = await desk.textContent('h1');
      const text = await desk.$$eval('.fb-message p', (ps) => ps.map((p) => p.textContent).join('\n'));
      assert.equal(text.replace(/^\d+: /, ''), message, `${href} shows the message as typed`);
      assert.equal(await desk.textContent('.fb-page'), from, `${href} shows the page as sent`);
      seen.add(heading.replace(/^Message from /, ''));
    }
    // Names are kept trimmed (a payload list starting with U+2028 loses it).
    assert.deepEqual([...seen].sort(), names.map((n) => n.trim()).sort(), 'every name reads back as typed');
    assert.deepEqual(problems, []);
  });

  it('axe-core and the Nu HTML Checker on the feedback pages and the queue', { timeout: 120_000 }, async () => {
    // After the test above: the queue holds messages full of payloads.
    const context = await browser.newContext({ bypassCSP: true });
    const pages = [];
    try {
      const page = await context.newPage();
      const take = async (name, res) => {
        assert.ok(res.ok() || [400, 429].includes(res.status()), `${name}: ${page.url()} answered ${res.status()}`);
        const html = await res.text();
        await page.addScriptTag({ path: AXE_PATH });
        const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        pages.push({ name, html, bad: bad.map((v) => `${name}: ${v.id}: ${v.nodes.map((n) => n.html).join(' | ')}`) });
      };
      await take('form', await page.goto(`${server.url}/feedback?from=%2Fsector%2Fhealth`, { waitUntil: 'load' }));
      // A refused form (too soon, and a bad address): the form again with its errors.
      await page.fill('#fb-message', 'Too quick.');
      await page.fill('#fb-email', 'not-an-address@');
      await page.evaluate(() => document.querySelector('#fb-email').setAttribute('type', 'text'));
      const [refused] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form:has(#fb-message) button[type=submit]')]);
      await take('refused', refused);
      await page.goto(`${server.url}/feedback`, { waitUntil: 'load' });
      await page.fill('#fb-message', 'The page is easy to read.');
      await page.waitForTimeout(FILL_MS);
      // The address sent its hour's worth above: this is the "try again later" answer.
      const [limited] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form:has(#fb-message) button[type=submit]')]);
      assert.equal(limited.status(), 429);
      await take('limited', limited);
      await page.goto(`${server.url}/newsroom/login`);
      await page.fill('#email', EDITOR.email);
      await page.fill('#password', EDITOR.password);
      await Promise.all([page.waitForURL((u) => u.pathname === '/newsroom', { timeout: 30_000 }), page.click('button[type=submit]')]);
      await take('queue', await page.goto(`${server.url}/newsroom/feedback`, { waitUntil: 'load' }));
      const href = await page.$eval('td a[href^="/newsroom/feedback/"]', (a) => a.getAttribute('href'));
      await take('message', await page.goto(server.url + href, { waitUntil: 'load' }));
    } finally {
      await context.close();
    }
    assert.deepEqual(pages.flatMap((p) => p.bad), [], 'axe: serious or critical violations');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'newsdesk-vnu-fb-'));
    try {
      const files = pages.map((p) => {
        const f = path.join(dir, `${p.name}.html`);
        writeFileSync(f, p.html);
        return f;
      });
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
