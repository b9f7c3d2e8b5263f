// End-to-end tests of the newsdesk newsroom in a real browser (Debian's Chromium driven by
// playwright-core): hostile text in every field of the story editor, the whole path from a
// contributor's draft to a scheduled publication and a correction, forged cross-site requests
// and session cookies, axe-core plus the Nu HTML Checker on every newsroom page, and the wire desk
// (agency copy in by file and by push, the inbox, a cluster compared, a story made from it).
//
// Run from the repository root:
//   NEWSDESK_BIN=target/debug/newsdesk node --test tests/browser/newsroom.test.mjs
//
// One server (fresh data dir, accounts made with `newsdesk user add`, then `serve --demo`) and one
// browser are shared by every test in this file. After a first check that Chromium keeps the
// session cookie, the other tests run at the same time (the scheduled story waits for the real
// clock); the flow test schedules its story only once the XSS test has published its stories, so
// it is the newest story on the home page when its minute comes.
//
// The wire desk test needs agency copy: before the server starts, `newsdesk ingest` reads ninjs
// files written by wirecopy.mjs (two agencies reporting the same floods in their own words, and
// two other events); a third agency's report of the floods is pushed over HTTP once an admin has
// added its source through the form.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { freePort, startServer } from './server.mjs';
import { AGENCIES, writeWireCopy } from './wirecopy.mjs';
import { PAYLOADS } from './payloads.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
const ARTIFACTS = path.resolve(process.env.NEWSDESK_ARTIFACTS || path.join(REPO, 'target', 'artifacts'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Pages of the tests run side by side: none of them may be throttled as a background tab.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

const SESSION_COOKIE = '__Host-newsdesk_session';
const PASSWORD = 'a long enough password';
const USERS = {
  admin: { email: 'admin@example.org', password: PASSWORD, role: 'admin', name: 'Ada Admin' },
  editor: { email: 'editor@example.org', password: PASSWORD, role: 'editor', name: 'Eddie Editor' },
  writer: { email: 'writer@example.org', password: PASSWORD, role: 'contributor', name: 'Wanda Writer' },
};
/** Unique per run: headlines and slugs of this run's stories carry it. */
const RUN = `r${Date.now().toString(36)}`;

let server; // { url, stop, log, ingested }
let browser;
/** What wirecopy.mjs wrote: { files, push: { body, contentType }, headlines }. */
let wire;
let wireDir;

/** Resolved by the XSS test once its stories are published (or it gave up). */
let xssPublishedResolve;
const xssPublished = new Promise((r) => {
  xssPublishedResolve = r;
});

// ---------------------------------------------------------------------------------------------
// Hostile input


/** Markdown-only shapes, for the body. */
const BODY_EXTRAS = [
  '[ref link][evil]\n\n[evil]: javascript:alert(140)',
  '<div>\n<script>alert(141)</script>\n</div>',
  '<a href="&#106;avascript:alert(142)">entity-encoded scheme</a>',
  '[title breakout](https://example.org "\\" onmouseover=alert(143) x=\\"")',
  '| a | b |\n|---|---|\n| <img src=x onerror=alert(144)> | [x](javascript:alert(145)) |',
  '`<script>alert(146)</script>` in a code span',
  '```html\n<script>alert(147)</script>\n```',
  '<https://example.org/"onmouseover="alert(148)>',
  '<img src="x" onerror="alert(149)" alt="raw img">',
];

/** Packs `items` into strings of at most `limit` characters (items longer than that are left out). */
function pack(items, limit, sep = ' ') {
  const chunks = [];
  let cur = '';
  for (const it of items) {
    if ([...it].length > limit) continue;
    const next = cur ? cur + sep + it : it;
    if ([...next].length <= limit) cur = next;
    else {
      chunks.push(cur);
      cur = it;
    }
  }
  if (cur) chunks.push(cur);
  return chunks;
}

/**
 * What goes into the editor for story `i`, revision `r`. Every payload reaches every text field in
 * some revision of some story (within the field's length limit): headline ≤ 200, summary ≤ 600,
 * region ≤ 60, source ≤ 200, tags ≤ 60 each and comma-free; the body gets all of them each time.
 */
function xssPlan(stories) {
  const prefix = (i, r) => `XSS ${RUN} s${i}r${r}: `;
  const headline = pack(PAYLOADS, 200 - prefix(9, 9).length - 2);
  const summary = pack(PAYLOADS, 600);
  const region = pack(PAYLOADS, 60);
  const source = pack(PAYLOADS, 200);
  const taggable = PAYLOADS.filter((p) => [...p].length <= 60 && !p.includes(','));
  const tagGroups = [];
  for (let k = 0; k < taggable.length; k += 10) tagGroups.push(taggable.slice(k, k + 10));
  const most = Math.max(headline.length, summary.length, region.length, source.length, tagGroups.length);
  const revisions = Math.ceil(most / stories);
  const pick = (list, k) => list[k % list.length];
  const slot = (i, r) => {
    const k = r * stories + i;
    const body =
      `XSS body ${RUN} s${i}r${r}\n\n` +
      PAYLOADS.join('\n\n') +
      `\n\nInline: ${PAYLOADS.join(' ')}\n\n` +
      PAYLOADS.map((p) => `- ${p}`).join('\n') +
      '\n\n' +
      BODY_EXTRAS.join('\n\n') +
      '\n';
    return {
      headline: prefix(i, r) + pick(headline, k),
      summary: pick(summary, k),
      body,
      tags: [`xss-${RUN}`, ...pick(tagGroups, k)],
      region: pick(region, k),
      source: pick(source, k),
    };
  };
  return {
    stories,
    revisions,
    slot,
    left_out: {
      region: PAYLOADS.filter((p) => [...p].length > 60),
      tags: PAYLOADS.filter((p) => !taggable.includes(p)),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

async function fetchText(p, { cookie, redirect = 'manual' } = {}) {
  const headers = cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {};
  const res = await fetch(server.url + p, { redirect, headers, signal: AbortSignal.timeout(30_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/**
 * A fresh browser context and page. The page's HTTP cache is off (pages of the site may be cached
 * for a minute), so a page seen before an edit is fetched again after it: the server's own cache
 * is what is under test.
 */
async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  await noCache(page);
  return { context, page };
}

/** Turns the browser cache off for one page (Chromium's DevTools protocol). */
async function noCache(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
}

/** What is wrong with a Content-Security-Policy header, or '' if it keeps inline script out. */
function cspProblem(csp) {
  if (!csp) return 'no Content-Security-Policy header';
  const dirs = Object.fromEntries(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name.toLowerCase(), values]),
  );
  const script = dirs['script-src'] ?? dirs['default-src'];
  if (!script) return `CSP without script-src or default-src: ${csp}`;
  if (script.some((v) => /unsafe-inline|unsafe-eval|unsafe-hashes|\*|data:|https?:$/i.test(v))) {
    return `CSP script-src allows more than its own files: ${csp}`;
  }
  if (!(dirs['object-src'] ?? []).includes("'none'")) return `CSP without object-src 'none': ${csp}`;
  if (!(dirs['frame-ancestors'] ?? []).includes("'none'")) return `CSP without frame-ancestors 'none': ${csp}`;
  if (!dirs['base-uri']) return `CSP without base-uri: ${csp}`;
  return '';
}

/**
 * Listens on a page for any sign of a payload running: a dialog (alert/confirm/prompt), an
 * uncaught page error, a console message about the CSP refusing something (markup that got into
 * the page and was stopped only by the CSP) and a missing or weak CSP on any document of the site.
 */
function watch(page, name) {
  const w = { name, label: name, problems: [], notes: [], documents: 0 };
  page.on('dialog', async (d) => {
    w.problems.push(`${w.label}: a ${d.type()} dialog opened with ${JSON.stringify(d.message())} (${page.url()})`);
    await d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => w.problems.push(`${w.label}: uncaught page error: ${e.message}`));
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to|alert\(|javascript:/i.test(t)) {
      w.problems.push(`${w.label}: console ${m.type()}: ${t} (${m.location()?.url ?? ''})`);
    } else if (m.type() === 'error') {
      w.notes.push(`${w.label}: console error: ${t} (${m.location()?.url ?? ''})`);
    }
  });
  page.on('response', (r) => {
    const req = r.request();
    if (!req.isNavigationRequest() || req.frame() !== page.mainFrame()) return;
    if (!r.url().startsWith(server.url) || (r.status() >= 300 && r.status() < 400)) return;
    w.documents++;
    const why = cspProblem(r.headers()['content-security-policy']);
    if (why) w.problems.push(`${w.label}: ${r.request().method()} ${r.url()} (${r.status()}): ${why}`);
  });
  return w;
}

/**
 * Runs in the page: every element or attribute that should never be in a newsdesk page and that
 * would only be there if hostile text had been let through as markup. (newsdesk pages have no
 * event-handler attributes, no inline script, no frames, no style or svg elements.)
 */
function inspectDom() {
  const out = [];
  const cut = (s) => (s.length > 160 ? `${s.slice(0, 160)}…` : s);
  const urlAttrs = new Set([
    'href', 'src', 'action', 'formaction', 'data', 'xlink:href', 'poster', 'background', 'ping',
    'cite', 'codebase', 'srcset', 'lowsrc', 'dynsrc', 'to', 'from', 'values',
  ]);
  const badUrl = /(^|[\s,;=])(javascript|vbscript|livescript):|^data:(text\/html|image\/svg|application\/(x?html|xml|javascript))/i;
  const forbidden = new Set([
    'iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'math', 'svg',
    'style', 'animate', 'set', 'marquee', 'isindex', 'xmp', 'plaintext', 'listing', 'fencedframe',
  ]);
  for (const el of document.querySelectorAll('*')) {
    const tag = el.localName.toLowerCase();
    for (const a of el.attributes) {
      const n = a.name.toLowerCase();
      const v = a.value.replace(/[\u0000-\u0020\u007f-\u009f]+/g, '');
      if (n.startsWith('on')) out.push(`event-handler attribute <${tag} ${n}="${cut(a.value)}">`);
      if (n === 'srcdoc' || n === 'http-equiv' || n === 'autofocus') out.push(`<${tag} ${n}="${cut(a.value)}">`);
      if (urlAttrs.has(n) && badUrl.test(v)) out.push(`script URL <${tag} ${n}="${cut(a.value)}">`);
    }
    if (forbidden.has(tag)) out.push(`<${tag}> element: ${cut(el.outerHTML)}`);
    if (tag === 'script') {
      const type = (el.getAttribute('type') || '').toLowerCase();
      if (type === 'application/ld+json') {
        try {
          JSON.parse(el.textContent);
        } catch (e) {
          out.push(`JSON-LD that is not JSON (${e.message}): ${cut(el.textContent)}`);
        }
      } else if (!el.hasAttribute('src') || new URL(el.src, location.href).origin !== location.origin) {
        out.push(`script element: ${cut(el.outerHTML)}`);
      }
    }
    if (tag === 'form') {
      const action = el.getAttribute('action') || '';
      if (action && !action.startsWith('/')) out.push(`form posting elsewhere: ${cut(el.outerHTML)}`);
    }
  }
  return out;
}

/** Runs in the page on a feed's text: XML well-formedness, and the HTML inside the feed. */
function inspectFeed({ text, kind }) {
  const out = [];
  const htmls = [];
  if (kind === 'json') {
    let j;
    try {
      j = JSON.parse(text);
    } catch (e) {
      return { problems: [`not JSON: ${e.message}`], titles: [] };
    }
    for (const it of j.items ?? []) if (it.content_html) htmls.push({ where: 'content_html', html: it.content_html });
    return { problems: out, titles: (j.items ?? []).map((i) => i.title), htmls };
  }
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  const err = doc.querySelector('parsererror');
  if (err) return { problems: [`not well-formed XML: ${err.textContent.slice(0, 300)}`], titles: [] };
  for (const el of doc.getElementsByTagName('*')) {
    if (el.namespaceURI === 'http://www.w3.org/1999/xhtml' || el.localName.toLowerCase() === 'script') {
      out.push(`markup element <${el.localName}> in the feed itself`);
    }
    for (const a of el.attributes) if (a.name.toLowerCase().startsWith('on')) out.push(`attribute ${a.name} in the feed`);
    // The elements feed readers render as HTML.
    const ln = el.localName;
    const parent = el.parentNode?.localName;
    if (
      (ln === 'encoded' || ln === 'description') ||
      ((ln === 'content' || ln === 'summary' || ln === 'title') && el.getAttribute('type') === 'html')
    ) {
      htmls.push({ where: `<${el.tagName}> of <${parent}>`, html: el.textContent });
    }
  }
  const titles = [...doc.getElementsByTagName('item'), ...doc.getElementsByTagName('entry')].map(
    (i) => i.getElementsByTagName('title')[0]?.textContent ?? '',
  );
  return { problems: out, titles, htmls };
}

/** Runs in the page: the same checks as inspectDom on an HTML fragment from a feed. */
function inspectFragments(htmls) {
  const out = [];
  const badUrl = /(^|[\s,;=])(javascript|vbscript):|^data:(text\/html|image\/svg)/i;
  for (const { where, html } of htmls) {
    const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
    for (const el of doc.body.querySelectorAll('*')) {
      const tag = el.localName;
      if (['script', 'iframe', 'object', 'embed', 'svg', 'math', 'style', 'base', 'form', 'frame', 'meta'].includes(tag)) {
        out.push(`${where}: <${tag}> element: ${el.outerHTML.slice(0, 100)}`);
      }
      for (const a of el.attributes) {
        const v = a.value.replace(/[\u0000-\u0020]+/g, '');
        if (a.name.startsWith('on')) out.push(`${where}: event handler <${tag} ${a.name}="${a.value.slice(0, 60)}">`);
        if (['href', 'src', 'action', 'formaction', 'data', 'srcset'].includes(a.name) && badUrl.test(v)) {
          out.push(`${where}: script URL <${tag} ${a.name}="${a.value.slice(0, 60)}">`);
        }
      }
    }
  }
  return out;
}

/** After a document loaded: let late handlers fire, then look through the DOM. */
async function check(page, w, label, { settle = 60 } = {}) {
  w.label = label;
  await page.waitForLoadState('load', { timeout: 15_000 }).catch(() => {});
  if (settle) await page.waitForTimeout(settle);
  const bad = await page.evaluate(inspectDom).catch((e) => [`could not inspect the page: ${e.message}`]);
  for (const b of bad) w.problems.push(`${label} (${page.url()}): ${b}`);
  const frames = page.frames().length;
  if (frames > 1) w.problems.push(`${label} (${page.url()}): ${frames - 1} frame(s) in the page`);
}

/** Opens `p` and checks it. */
async function go(page, w, label, p, { status = 200 } = {}) {
  w.label = label;
  const res = await page.goto(server.url + p, { waitUntil: 'load' });
  assert.equal(res?.status(), status, `${label}: GET ${p} answered ${res?.status()}`);
  await check(page, w, label);
  return res;
}

/** Clicks something that submits a form and waits for the next document (after redirects). */
async function submit(page, w, label, locator, { status } = {}) {
  w.label = label;
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 30_000 }), locator.click()]);
  if (status !== undefined) assert.equal(res?.status(), status, `${label}: answered ${res?.status()} at ${page.url()}`);
  await check(page, w, label);
  return res;
}

const button = (page, name) => page.getByRole('button', { name, exact: true });

async function sessionCookie(context) {
  return (await context.cookies(server.url)).find((c) => c.name === SESSION_COOKIE);
}

/** Logs in through the form; returns the session cookie value. */
async function login(page, user, w) {
  await (w ? go(page, w, `login page (${user.role})`, '/newsroom/login') : page.goto(server.url + '/newsroom/login'));
  await page.fill('#email', user.email);
  await page.fill('#password', user.password);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/newsroom', { timeout: 30_000 }),
    button(page, 'Log in').click(),
  ]);
  if (w) await check(page, w, `dashboard after login (${user.role})`);
  const c = await sessionCookie(page.context());
  assert.ok(c, `no ${SESSION_COOKIE} cookie after ${user.email} logged in`);
  return c.value;
}

async function logout(page) {
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/newsroom/login', { timeout: 30_000 }),
    button(page, 'Log out').click(),
  ]);
}

/** Fills the story editor. */
async function fillStory(page, v, { sector = 'health' } = {}) {
  await page.fill('#headline', v.headline);
  await page.fill('#summary', v.summary);
  await page.fill('#body_md', v.body);
  await page.fill('#tags', v.tags.join(', '));
  await page.fill('#region', v.region);
  await page.fill('#source', v.source);
  if (sector) await page.selectOption('#sector', sector);
}

/** The story id from an editor URL. */
function storyIdOf(url) {
  const m = /\/newsroom\/stories\/(\d+)/.exec(new URL(url).pathname);
  assert.ok(m, `not an editor URL: ${url}`);
  return Number(m[1]);
}

/** Whether the newsroom's live preview (when there is one) has caught up with the body. */
async function waitLivePreview(page) {
  return page
    .waitForFunction(() => {
      const e = document.getElementById('live-preview');
      return !e || e.innerHTML.trim() !== '';
    }, null, { timeout: 3_000 })
    .then(() => true)
    .catch(() => false);
}

function feedKind(p) {
  return p.endsWith('.json') ? 'json' : 'xml';
}

/** Runs a Java program and collects its output. */
function run(cmd, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** `YYYY-MM-DDTHH:MM` of a Date, in UTC (what the datetime-local inputs of the newsroom take). */
function utcInput(d) {
  return d.toISOString().slice(0, 16);
}

const AXE_SOURCE = readFileSync(AXE_PATH, 'utf8');

/**
 * axe-core's violations on the page as it is now. axe is evaluated through the DevTools protocol,
 * which the page's Content-Security-Policy does not govern, so the page keeps its CSP and its
 * console still shows anything the CSP refuses. Closed <details> are opened first so that what
 * they hide (the wire desk's marked differences) is checked too.
 */
async function axeViolations(page) {
  await page.evaluate(AXE_SOURCE);
  await page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = true;
  });
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations;
}

/** One axe violation, for a failure message. */
function describeViolation(v) {
  return (
    `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
    v.nodes
      .slice(0, 6)
      .map((n) => `      ${n.target.join(' ')}\n        ${n.html.slice(0, 200)}\n        ${(n.failureSummary || '').replace(/\n/g, ' ')}`)
      .join('\n')
  );
}

/**
 * Prints every axe violation of `pages` ([{ name, url, html, violations }]) and returns the
 * serious and critical ones.
 */
function seriousViolations(pages, what) {
  const all = pages.filter((p) => p.violations.length).map((p) => `${p.name}:\n    ${p.violations.map(describeViolation).join('\n    ')}`);
  if (all.length) console.log(`axe on ${what}:\n${all.join('\n')}`);
  return pages.flatMap((p) =>
    p.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${p.name} ${p.url}: ${describeViolation(v)}`),
  );
}

/** The Nu HTML Checker on the served HTML of `pages`: { lines (one per error), code }. */
async function nuErrors(pages, prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const files = pages.map((p) => {
      const f = path.join(dir, `${p.name}.html`);
      writeFileSync(f, p.html);
      return f;
    });
    const out = await run('java', ['-jar', VNU_JAR, '--errors-only', '--format', 'json', ...files], 120_000);
    const report = JSON.parse(out.stderr.trim() || out.stdout.trim() || '{"messages":[]}');
    const lines = report.messages
      .filter((m) => m.type === 'error' || m.type === 'non-document-error')
      .map((m) => `${path.basename(new URL(m.url).pathname)}:${m.lastLine ?? '?'}:${m.firstColumn ?? '?'} ${m.message}` + (m.extract ? `\n    ${m.extract.replace(/\n/g, '⏎')}` : ''));
    return { lines, code: out.code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Collects into `errors` every console error of `page` and every request of it that failed, except
 * two that are not the page's: Chromium's own request for /favicon.ico (the newsroom has no icon)
 * and the "Failed to load resource" Chromium logs for a document answered with an error status
 * (the tests assert those statuses: a form with mistakes answers 400).
 */
function watchConsole(page, who, errors) {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    if (/\/favicon\.ico$/.test(where)) return;
    if (m.text().startsWith('Failed to load resource') && where === page.url()) return;
    errors.push(`${who} on ${page.url()}: ${m.text()} (${where})`);
  });
  page.on('requestfailed', (r) => {
    if (!/\/favicon\.ico$/.test(r.url())) errors.push(`${who} on ${page.url()}: request failed ${r.url()} (${r.failure()?.errorText})`);
  });
}

/** The rows of the wire inbox's table: [{ urgency, event, href, agencies, items, sector, editions }]. */
function wireRows(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('main table tbody tr')].map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((c) => c.textContent.trim());
      return {
        urgency: td[0],
        event: td[1],
        href: tr.querySelector('td a')?.getAttribute('href') ?? '',
        agencies: td[2],
        items: Number(td[3]),
        sector: td[4],
        editions: td[5],
      };
    }),
  );
}

// ---------------------------------------------------------------------------------------------

describe('newsdesk newsroom', { timeout: 330_000 }, () => {
  before(async () => {
    wireDir = mkdtempSync(path.join(os.tmpdir(), 'newsdesk-wire-copy-'));
    wire = writeWireCopy(wireDir, RUN);
    server = await startServer({ users: Object.values(USERS), ingest: wire.files });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
    mkdirSync(ARTIFACTS, { recursive: true });
  }, { timeout: 200_000 });

  after(async () => {
    xssPublishedResolve?.();
    await browser?.close().catch(() => {});
    await server?.stop();
    if (wireDir) rmSync(wireDir, { recursive: true, force: true });
  }, { timeout: 30_000 });

  it('Chromium keeps the __Host- session cookie (Secure, HttpOnly, SameSite=Lax) over http://127.0.0.1', { timeout: 60_000 }, async () => {
    const { context, page } = await newPage();
    try {
      const setCookies = [];
      page.on('response', async (r) => {
        if (r.url().endsWith('/newsroom/login') && r.request().method() === 'POST') {
          setCookies.push((await r.headerValue('set-cookie')) ?? '(none)');
        }
      });
      await page.goto(server.url + '/newsroom/login');
      await page.fill('#email', USERS.editor.email);
      await page.fill('#password', USERS.editor.password);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button(page, 'Log in').click()]);
      const c = await sessionCookie(context);
      assert.ok(
        c,
        `Chromium did not keep the session cookie. Set-Cookie was ${JSON.stringify(setCookies)}; ` +
          `cookies in the browser: ${JSON.stringify(await context.cookies())}; page is ${page.url()}`,
      );
      assert.equal(new URL(page.url()).pathname, '/newsroom', 'logged in: the dashboard');
      assert.match(c.value, /^[0-9a-f]{32}$/);
      assert.equal(c.secure, true, 'Secure');
      assert.equal(c.httpOnly, true, 'HttpOnly');
      assert.equal(c.sameSite, 'Lax', 'SameSite=Lax');
      assert.equal(c.path, '/', 'Path=/');
      assert.equal(c.domain, '127.0.0.1', 'host-only cookie');
      assert.equal(await page.locator('h1').textContent(), 'Dashboard');
      // HttpOnly: the page's scripts cannot read it.
      assert.ok(!(await page.evaluate(() => document.cookie)).includes(SESSION_COOKIE), 'document.cookie hides the session');
    } finally {
      await context.close();
    }
  });

  describe('newsroom in the browser (run together)', { concurrency: true }, () => {
    // -----------------------------------------------------------------------------------------
    it('XSS: payloads in every editor field and in a correction never run anywhere', { timeout: 240_000 }, async () => {
      const plan = xssPlan(4);
      const { context, page } = await newPage();
      const w = watch(page, 'xss');
      const mismatches = [];
      const feedProblems = new Set();
      // Feeds are parsed in a blank page of their own: DOMParser in a page of the site would make
      // Chromium report CSP refusals for the markup being inspected, which are not the site's. (Its
      // own context, so that the editor's page stays the front tab of its window.)
      const labContext = await browser.newContext();
      const lab = await labContext.newPage();
      await lab.goto('about:blank');
      const stories = []; // { id, slug, href, v }
      const seen = new Set(); // every GET path opened, for the second pass
      const feedTitles = new Set();
      const tagPages = new Set();
      const t0 = Date.now();
      const times = [];
      const lap = (m) => times.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`);
      const same = (label, got, want) => {
        if (got !== want) mismatches.push(`${label}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      };
      const open = async (label, p, opts) => {
        seen.add(p);
        return go(page, w, label, p, opts);
      };

      /** The editor shows back exactly what was saved. */
      const roundTrip = async (label, v, { trimmed = true } = {}) => {
        const t = (x) => (trimmed ? x.trim() : x);
        const got = await page.evaluate(() =>
          Object.fromEntries(['headline', 'summary', 'body_md', 'region', 'source', 'tags'].map((id) => [id, document.getElementById(id)?.value])),
        );
        same(`${label} headline`, got.headline, t(v.headline));
        same(`${label} summary`, got.summary, t(v.summary));
        same(`${label} body`, got.body_md, v.body);
        same(`${label} region`, got.region, t(v.region));
        same(`${label} source`, got.source, t(v.source));
        const tags = (got.tags ?? '').split(',').map((x) => x.trim()).filter(Boolean);
        same(`${label} tags`, JSON.stringify([...tags].sort()), JSON.stringify(v.tags.map((x) => x.trim()).sort()));
      };

      /** The public page shows the text as text. */
      const publicPage = async (label, s, v) => {
        await open(label, s.href);
        const got = await page.evaluate(() => {
          const text = (sel) => document.querySelector(sel)?.textContent.trim();
          return {
            h1: text('main h1.headline'),
            summary: text('main p.summary'),
            source: text('main p.source'),
            title: document.title,
            tags: [...document.querySelectorAll('main ul.tags a')].map((a) => a.textContent.trim()),
            tagHrefs: [...document.querySelectorAll('main ul.tags a')].map((a) => a.getAttribute('href')),
            ld: [...document.querySelectorAll('script[type="application/ld+json"]')].map((e) => e.textContent),
          };
        });
        same(`${label} h1`, got.h1, v.headline.trim());
        same(`${label} summary`, got.summary, v.summary.trim());
        same(`${label} source`, got.source, `Source: ${v.source.trim()}`);
        if (!got.title.includes(v.headline.trim())) mismatches.push(`${label}: <title> ${JSON.stringify(got.title)} lacks the headline`);
        for (const x of v.tags) if (!got.tags.includes(x.trim())) mismatches.push(`${label}: tag ${JSON.stringify(x)} not shown (${JSON.stringify(got.tags)})`);
        const article = got.ld.map((j) => { try { return JSON.parse(j); } catch { return {}; } }).find((j) => /NewsArticle$/.test(j['@type'] ?? ''));
        if (!article) mismatches.push(`${label}: no NewsArticle JSON-LD`);
        else if (!v.headline.trim().startsWith(String(article.headline).replace(/…$/, ''))) {
          mismatches.push(`${label}: JSON-LD headline ${JSON.stringify(article.headline)} is not the headline`);
        }
        s.tagHrefs = got.tagHrefs;
      };

      /** Feeds of the site and of corrections: well-formed, HTML inside them harmless. */
      const feeds = async (label) => {
        for (const p of ['/feed.rss', '/feed.atom', '/feed.json', '/corrections/feed.rss', '/corrections/feed.atom', '/corrections/feed.json']) {
          const r = await fetchText(p);
          if (r.status !== 200) {
            w.problems.push(`${label}: GET ${p} answered ${r.status}`);
            continue;
          }
          const why = cspProblem(r.headers.get('content-security-policy'));
          if (why) w.problems.push(`${label}: ${p}: ${why}`);
          const got = await lab.evaluate(inspectFeed, { text: r.body, kind: feedKind(p) });
          for (const x of got.problems) w.problems.push(`${label}: ${p}: ${x}`);
          for (const x of await lab.evaluate(inspectFragments, got.htmls ?? [])) feedProblems.add(`${p}: ${x}`);
          if (p.startsWith('/feed')) for (const t of got.titles) feedTitles.add(`${p}|${t}`);
        }
      };

      try {
        await login(page, USERS.editor, w);

        // Phase A: write, preview, save, submit and publish each story (revision 0).
        for (let i = 0; i < plan.stories; i++) {
          const v = plan.slot(i, 0);
          await open(`s${i}r0 new editor`, '/newsroom/stories/new');
          await fillStory(page, v);
          if (await waitLivePreview(page)) await check(page, w, `s${i}r0 typed, live preview`);
          await submit(page, w, `s${i}r0 preview (new story)`, button(page, 'Preview'), { status: 200 });
          assert.equal(await page.locator('section.nr-preview h2', { hasText: 'Preview (not saved)' }).count(), 1, 'the preview is shown');
          same(`s${i}r0 preview keeps the headline`, await page.inputValue('#headline'), v.headline);
          await submit(page, w, `s${i}r0 save`, button(page, 'Save'), { status: 200 });
          const id = storyIdOf(page.url());
          await roundTrip(`s${i}r0 editor after save`, v);
          await submit(page, w, `s${i} submit for review`, button(page, 'Submit for review'), { status: 200 });
          await submit(page, w, `s${i} publish now`, button(page, 'Publish now'), { status: 200 });
          assert.match(await page.locator('h1 .status').textContent(), /published/, `story ${id} is published`);
          const slug = await page.inputValue('#slug');
          const s = { id, slug, href: `/article/${slug}`, v };
          stories.push(s);
          seen.add(`/newsroom/stories/${id}`);
          await publicPage(`s${i}r0 public article`, s, v);
        }
        xssPublishedResolve();
        lap('stories published');
        await open('home r0', '/');
        const home = await page.content();
        for (const s of stories) if (!home.includes(`href="${s.href}"`)) mismatches.push(`home page lacks ${s.href}`);
        await feeds('feeds r0');

        // Phase B: every further revision, saved on the published stories (which go live at once).
        for (let r = 1; r < plan.revisions; r++) {
          for (const [i, s] of stories.entries()) {
            const v = plan.slot(i, r);
            await open(`s${i}r${r} editor`, `/newsroom/stories/${s.id}`);
            await fillStory(page, v, { sector: null });
            await submit(page, w, `s${i}r${r} preview`, button(page, 'Preview'), { status: 200 });
            await submit(page, w, `s${i}r${r} save`, button(page, 'Save'), { status: 200 });
            assert.equal(storyIdOf(page.url()), s.id);
            await roundTrip(`s${i}r${r} editor after save`, v);
            s.v = v;
            await publicPage(`s${i}r${r} public article`, s, v);
          }
          await open(`home r${r}`, '/');
          await feeds(`feeds r${r}`);
        }

        lap('all revisions saved and viewed');
        // Autosaved text (what the editor's script posts every 20 s), offered back and restored.
        {
          const s = stories[1];
          const v = plan.slot(0, plan.revisions - 1);
          await open('autosave: editor', `/newsroom/stories/${s.id}`);
          await fillStory(page, v, { sector: null });
          const status = await page.evaluate(async (id) => {
            const data = new URLSearchParams(new FormData(document.getElementById('story-form')));
            data.delete('action');
            const r = await fetch(`/newsroom/stories/${id}/autosave`, {
              method: 'POST',
              credentials: 'same-origin',
              headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
              body: data.toString(),
            });
            return r.status;
          }, s.id);
          assert.equal(status, 200, 'autosave answered');
          await open('autosave: editor offers it', `/newsroom/stories/${s.id}`);
          const back = page.getByRole('link', { name: 'Put it back in the form' });
          assert.equal(await back.count(), 1, 'the editor offers the autosaved text');
          await submit(page, w, 'autosave: put back', back, { status: 200 });
          seen.add(`/newsroom/stories/${s.id}?autosave=1`);
          // Autosave keeps the text as typed (not trimmed, unlike a save).
          await roundTrip('autosave: restored form', v, { trimmed: false });
        }

        // A colleague whose name is hostile: invited by the admin, accepted in the browser; the
        // name shows in the header, presence, history, accounts and audit log.
        const EVIL = { email: `evil-${RUN}@example.org`, password: PASSWORD, role: 'editor', name: '"><img src=x onerror=alert(150)><script>alert(151)</script><svg onload=alert(152)>\'-alert(153)-\'' };
        const adm = await newPage();
        const wadm = watch(adm.page, 'xss admin');
        const evil = await newPage();
        const wev = watch(evil.page, 'xss colleague');
        try {
          await login(adm.page, USERS.admin, wadm);
          await go(adm.page, wadm, 'admin: accounts', '/newsroom/users');
          await adm.page.fill('#inv-email', EVIL.email);
          await adm.page.selectOption('#inv-role', 'editor');
          await submit(adm.page, wadm, 'admin: invitation made', button(adm.page, 'Make invitation'), { status: 200 });
          const link = (await adm.page.locator('code.invitation-link').textContent())?.trim() ?? '';
          await go(evil.page, wev, 'colleague: invitation', new URL(link).pathname);
          await evil.page.fill('#name', EVIL.name);
          await evil.page.fill('#password', EVIL.password);
          await submit(evil.page, wev, 'colleague: account made', button(evil.page, 'Make my account'), { status: 200 });
          await login(evil.page, EVIL, wev);
          same('header shows the name', (await evil.page.locator('.nr-head .who').textContent())?.trim(), `${EVIL.name} (editor)`);
          await go(evil.page, wev, 'colleague: opens s0', `/newsroom/stories/${stories[0].id}`);
          await submit(evil.page, wev, 'colleague: saves s0', button(evil.page, 'Save'), { status: 200 });
          await open('presence: s0 editor', `/newsroom/stories/${stories[0].id}`);
          const pres = (await page.locator('p.presence').allTextContents()).join(' ');
          if (!pres.includes(EVIL.name)) mismatches.push(`presence does not name the colleague: ${JSON.stringify(pres)}`);
          await open('presence: s0 history', `/newsroom/stories/${stories[0].id}/history`);
          const by = await page.locator('table.nr-table tbody tr td:nth-child(3)').allTextContents();
          if (!by.includes(EVIL.name)) mismatches.push(`history does not name the colleague: ${JSON.stringify(by)}`);
          await go(adm.page, wadm, 'admin: accounts with the colleague', '/newsroom/users');
          if (!(await adm.page.locator('table.nr-table td', { hasText: EVIL.email }).count())) mismatches.push('accounts page lacks the colleague');
          if (!(await adm.page.locator('table.nr-table td').allTextContents()).includes(EVIL.name)) mismatches.push('accounts page does not show the name as text');
          await go(adm.page, wadm, 'admin: audit log', '/newsroom/audit');
        } finally {
          for (const x of [wadm, wev]) {
            w.problems.push(...x.problems);
            w.notes.push(...x.notes);
            w.documents += x.documents;
          }
          await adm.context.close();
          await evil.context.close();
        }

        // A correction made of payloads, on the newsroom, the story and /corrections.
        const target = stories[0];
        const wrong = PAYLOADS.join(' ');
        const right = [...PAYLOADS].reverse().join(' ');
        await open('correction: editor', `/newsroom/stories/${target.id}`);
        await page.fill('#wrong', wrong);
        await page.fill('#right', right);
        await submit(page, w, 'correction: saved', button(page, 'Add correction'), { status: 200 });
        const nrCorr = (await page.locator('section.nr-corrections li').allTextContents()).join('\n');
        if (!nrCorr.includes(wrong) || !nrCorr.includes(right)) mismatches.push(`newsroom corrections list does not show the text: ${nrCorr.slice(0, 200)}`);
        await open('correction: public article', target.href);
        const shown = (await page.locator('section.corrections li').allTextContents()).join('\n');
        const want = `An earlier version of this story said: ${wrong} Correct: ${right}`;
        if (!shown.includes(want)) mismatches.push(`public correction text differs: ${JSON.stringify(shown.slice(0, 300))}`);
        await open('correction: /corrections', '/corrections');
        const listed = (await page.locator('main .cards li .dek').allTextContents()).map((t) => t.trim());
        if (!listed.includes(want)) mismatches.push('/corrections does not list the correction text');
        await feeds('feeds after the correction');

        // Every other newsroom and public page that shows the stories.
        for (const [i, s] of stories.entries()) {
          await open(`s${i} history`, `/newsroom/stories/${s.id}/history`);
          // Oldest against newest revision: every field changed in between.
          const revs = await page.locator('input[name="from"]').evaluateAll((es) => es.map((e) => e.value));
          assert.ok(revs.length >= plan.revisions, `history of story ${s.id} lists ${revs.length} revisions`);
          await open(`s${i} history, first against last`, `/newsroom/stories/${s.id}/history?from=${revs.at(-1)}&to=${revs[0]}`);
          assert.ok((await page.locator('.nr-diff ins, .nr-diff del').count()) > 0, `history of story ${s.id} shows a difference`);
          for (const h of s.tagHrefs ?? []) {
            if (!tagPages.has(h)) await open(`s${i} tag page ${h}`, h);
            tagPages.add(h);
          }
        }
        await open('dashboard', '/newsroom');
        const dash = await page.locator('section[aria-labelledby="sec-published"] a').allTextContents();
        for (const s of stories) if (!dash.includes(s.v.headline.trim())) mismatches.push(`dashboard lacks ${JSON.stringify(s.v.headline)}`);
        for (const q of PAYLOADS.slice(0, 8)) await open(`dashboard search ${JSON.stringify(q)}`, `/newsroom?q=${encodeURIComponent(q)}`);
        for (const [i, s] of stories.entries()) {
          await open(`s${i} dashboard search by its headline`, `/newsroom?q=${encodeURIComponent(s.v.headline.slice(0, 60))}`);
        }
        await open('audit log', '/newsroom/audit');
        await open('home (final)', '/');
        await open('/feed.rss as a page', '/feed.rss');
        await open('/corrections (final)', '/corrections');
        await open('/corrections/feed.rss as a page', '/corrections/feed.rss');

        // The feeds carry the headlines as text, exactly.
        for (const s of stories) {
          if (!feedTitles.has(`/feed.rss|${s.v.headline.trim()}`)) mismatches.push(`/feed.rss has no item titled ${JSON.stringify(s.v.headline)}`);
          if (!feedTitles.has(`/feed.atom|${s.v.headline.trim()}`)) mismatches.push(`/feed.atom has no entry titled ${JSON.stringify(s.v.headline)}`);
        }

        // The login form shows back a hostile e-mail address (3 failed logins of one address).
        const anon = await newPage();
        const wa = watch(anon.page, 'xss login');
        try {
          for (const [k, p] of [PAYLOADS[3], PAYLOADS[17], PAYLOADS[10]].entries()) {
            await go(anon.page, wa, `login reflection ${k}`, '/newsroom/login');
            await anon.page.evaluate(() => document.querySelectorAll('form').forEach((f) => (f.noValidate = true)));
            await anon.page.fill('#email', `nobody${k}@example.org${p}`);
            await anon.page.fill('#password', 'not the password at all');
            await submit(anon.page, wa, `login reflection ${k} answer`, button(anon.page, 'Log in'), { status: 401 });
            same(`login form shows the address back (${k})`, await anon.page.inputValue('#email'), `nobody${k}@example.org${p}`);
          }
        } finally {
          await anon.context.close();
          w.problems.push(...wa.problems);
          w.notes.push(...wa.notes);
        }

        lap('all pages viewed');
        // Second pass without the CSP: escaping alone must keep every payload inert.
        const bare = await newPage({ bypassCSP: true });
        const wb = watch(bare.page, 'xss without CSP');
        try {
          await login(bare.page, USERS.editor, wb);
          // Every page seen, but only a few of the tag pages (they are all alike).
          const few = new Set([...tagPages].slice(0, 4));
          for (const p of seen) if (!tagPages.has(p) || few.has(p)) await go(bare.page, wb, `no CSP: ${p}`, p);
          for (const [i, s] of stories.entries()) {
            await go(bare.page, wb, `no CSP: s${i} editor`, `/newsroom/stories/${s.id}`);
            await waitLivePreview(bare.page);
            await submit(bare.page, wb, `no CSP: s${i} preview`, button(bare.page, 'Preview'), { status: 200 });
          }
          await go(bare.page, wb, 'no CSP: new story', '/newsroom/stories/new');
          await fillStory(bare.page, plan.slot(0, 0));
          await waitLivePreview(bare.page);
          await check(bare.page, wb, 'no CSP: typed into a new story');
          await submit(bare.page, wb, 'no CSP: preview of a new story', button(bare.page, 'Preview'), { status: 200 });
          // Re-check the dialogs once more after everything settled.
          await bare.page.waitForTimeout(500);
        } finally {
          await bare.context.close();
          w.problems.push(...wb.problems.map((p) => `[CSP bypassed] ${p}`));
          w.notes.push(...wb.notes);
          w.documents += wb.documents;
        }
      } finally {
        xssPublishedResolve();
        await context.close();
        await labContext.close();
      }
      lap('second pass done');
      console.log(`XSS timing:\n  ${times.join('\n  ')}`);
      console.log(`XSS: ${w.problems.length} problems, ${feedProblems.size} feed HTML problems, ${mismatches.length} mismatches`);
      const notes = [...new Set(w.notes.map((n) => n.replace(/^[^:]*: /, '')))];
      if (notes.length) console.log(`XSS test notes (not failures):\n  ${notes.slice(0, 30).join('\n  ')}`);
      console.log(
        `XSS: ${PAYLOADS.length} payloads + ${BODY_EXTRAS.length} body-only, ${plan.stories} stories × ${plan.revisions} revisions, ` +
          `${w.documents} documents checked; left out for length/commas: region ${plan.left_out.region.length}, tags ${plan.left_out.tags.length}`,
      );
      assert.deepEqual(
        { problems: w.problems, feedHtml: [...feedProblems], mismatches },
        { problems: [], feedHtml: [], mismatches: [] },
        'problems: signs of a payload running or getting into the markup; feedHtml: markup that feed ' +
          'readers would render from the HTML fields of the feeds (RSS description and content:encoded, ' +
          'Atom html content, JSON Feed content_html); mismatches: text saved is not shown back as the same text',
      );
      assert.ok(w.documents > 100, `only ${w.documents} documents were checked`);
    });

    // -----------------------------------------------------------------------------------------
    it('whole path: contributor writes and submits, editor schedules, it goes live on time, correction', { timeout: 300_000 }, async () => {
      const headline = `Solar pumps reach farms in ${RUN} valley, flow test`;
      const summary = `Irrigation for ${RUN}: a district puts solar pumps on 40 farms.`;
      const body = `Farmers in the ${RUN} valley switched on solar pumps this week.\n\nThe pumps replace diesel.`;
      const writer = await newPage();
      const ww = watch(writer.page, 'flow writer');
      const editor = await newPage();
      const we = watch(editor.page, 'flow editor');
      const reader = await newPage();
      const wr = watch(reader.page, 'flow reader');
      const log = [];
      const t0 = Date.now();
      const say = (m) => log.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`);
      try {
        // The writer (contributor) writes, saves and submits.
        await login(writer.page, USERS.writer, ww);
        await go(writer.page, ww, 'writer: new story', '/newsroom/stories/new');
        await writer.page.fill('#headline', headline);
        await writer.page.fill('#summary', summary);
        await writer.page.fill('#body_md', body);
        await writer.page.selectOption('#sector', 'health');
        await writer.page.fill('#tags', `flow-${RUN}, solar`);
        await submit(writer.page, ww, 'writer: save', button(writer.page, 'Save'), { status: 200 });
        const id = storyIdOf(writer.page.url());
        assert.equal((await writer.page.locator('p.notice', { hasText: 'Saved.' }).count()), 1, 'the editor says "Saved."');
        assert.equal(await writer.page.inputValue('#headline'), headline);
        const slug = await writer.page.inputValue('#slug');
        assert.match(slug, /^[a-z0-9]+(-[a-z0-9]+)*$/, `slug ${slug}`);
        const publicPath = `/article/${slug}`;
        assert.equal(await button(writer.page, 'Publish now').count(), 0, 'a contributor has no Publish button');
        await submit(writer.page, ww, 'writer: submit for review', button(writer.page, 'Submit for review'), { status: 200 });
        assert.match(await writer.page.locator('h1 .status').textContent(), /review/);
        assert.equal(await writer.page.locator('#story-form fieldset[disabled]').count(), 1, 'a submitted story is read-only for its contributor');
        say(`writer submitted story ${id} (${publicPath})`);
        await logout(writer.page);
        assert.equal(await sessionCookie(writer.context), undefined, 'logging out removes the cookie');
        await writer.page.goto(server.url + '/newsroom');
        assert.equal(new URL(writer.page.url()).pathname, '/newsroom/login', 'after logout the newsroom asks to log in');
        assert.equal((await fetchText(publicPath)).status, 404, 'a story in review is not public');

        // The editor finds it waiting for review and opens it.
        await login(editor.page, USERS.editor, we);
        const waiting = editor.page.locator('section[aria-labelledby="sec-review"] a', { hasText: headline });
        assert.equal(await waiting.count(), 1, 'the story is listed under "Waiting for review"');
        assert.match(
          (await editor.page.locator('section[aria-labelledby="sec-review"] h2').textContent()) ?? '',
          /^Waiting for review/,
        );
        await submit(editor.page, we, 'editor: open the story', waiting, { status: 200 });
        assert.equal(storyIdOf(editor.page.url()), id);
        assert.equal(await editor.page.inputValue('#headline'), headline);

        // So that this story is the newest on the home page, the XSS stories go out first.
        let gateTimer;
        const gate = await Promise.race([
          xssPublished.then(() => 'published'),
          new Promise((r) => {
            gateTimer = setTimeout(() => r('timeout'), 150_000);
          }),
        ]);
        clearTimeout(gateTimer);
        say(`XSS stories: ${gate}`);
        await go(editor.page, we, 'editor: story (reloaded)', `/newsroom/stories/${id}`);

        // Schedule: at least 61 s ahead, at the start of a minute (the input has minutes only).
        const at = new Date(Math.ceil((Date.now() + 61_000) / 60_000) * 60_000);
        await editor.page.fill('#publish_at', utcInput(at));
        await submit(editor.page, we, 'editor: schedule', button(editor.page, 'Schedule'), { status: 200 });
        assert.match(await editor.page.locator('h1 .status').textContent(), /scheduled/);
        say(`scheduled for ${at.toISOString()}`);
        await go(editor.page, we, 'editor: dashboard (scheduled)', '/newsroom');
        const row = editor.page.locator('section[aria-labelledby="sec-scheduled"] tr', { hasText: headline });
        assert.equal(await row.count(), 1, 'the story is listed under "Scheduled"');
        assert.match(await row.innerText(), new RegExp(`publishes ${at.toISOString().slice(0, 10)} ${at.toISOString().slice(11, 16)} UTC`));

        // Not public before its time: no page, list, feed or sitemap.
        const absent = async (when) => {
          assert.ok(Date.now() < at.getTime() - 1_000, `too slow: the checks ${when} ran after the scheduled time`);
          assert.equal((await fetchText(publicPath)).status, 404, `${publicPath} ${when}`);
          await go(reader.page, wr, `reader: home ${when}`, '/');
          assert.equal(await reader.page.locator(`main a[href="${publicPath}"]`).count(), 0, `home page links the story ${when}`);
          for (const p of ['/feed.rss', '/sitemap-news.xml', '/feed.json', '/sector/health']) {
            const r = await fetchText(p);
            assert.equal(r.status, 200, `${p} status`);
            assert.ok(!r.body.includes(slug), `${p} has the story ${when}`);
          }
          await go(reader.page, wr, `reader: the story ${when}`, publicPath, { status: 404 });
        };
        await absent('before its time');

        // Wait for the minute: poll the public URL every 2 s, at most 150 s.
        const deadline = Date.now() + 150_000;
        let liveAt = 0;
        let lastStatus = 0;
        while (Date.now() < deadline) {
          const r = await fetchText(publicPath);
          lastStatus = r.status;
          if (r.status === 200) {
            liveAt = Date.now();
            break;
          }
          assert.equal(r.status, 404, `${publicPath} answered ${r.status} while waiting`);
          await new Promise((res) => setTimeout(res, 2_000));
        }
        assert.ok(liveAt, `${publicPath} was still ${lastStatus} 150 s later (scheduled for ${at.toISOString()})`);
        say(`public after ${((liveAt - at.getTime()) / 1000).toFixed(1)} s past the scheduled time`);
        assert.ok(liveAt >= at.getTime(), `public ${(at.getTime() - liveAt) / 1000} s before its time`);

        // Now it is everywhere.
        await go(reader.page, wr, 'reader: home after publication', '/');
        // The newest story is under "Latest", or under "Top Stories" when the editors' ranked
        // stories leave room there (top stories are filled up with the latest; a story is shown once).
        const inLatest = await reader.page.locator(`section.home-latest a[href="${publicPath}"]`).count();
        const inTop = await reader.page.locator(`section.top-stories a[href="${publicPath}"]`).count();
        say(`home page: ${inLatest} link(s) in Latest, ${inTop} in Top Stories`);
        assert.ok(inLatest + inTop > 0, 'the story is not on the home page (neither Latest nor Top Stories)');
        const rail = await reader.page.locator(`aside.rail section.latest a[href="${publicPath}"]`).count();
        assert.ok(rail > 0, 'the story is not in the "Latest News" rail');
        const rss = await fetchText('/feed.rss');
        assert.ok(rss.body.includes(`<link>${server.url}${publicPath}</link>`), '/feed.rss has the story');
        const news = await fetchText('/sitemap-news.xml');
        assert.ok(news.body.includes(`<loc>${server.url}${publicPath}</loc>`), '/sitemap-news.xml has the story');
        await go(reader.page, wr, 'reader: the story', publicPath);
        assert.equal((await reader.page.locator('main h1.headline').textContent())?.trim(), headline);
        assert.equal(await reader.page.locator('section.corrections').count(), 0, 'no corrections yet');
        const updatedBefore = await reader.page.locator('p.timestamps time.updated').getAttribute('datetime');
        const updatedTextBefore = (await reader.page.locator('p.timestamps time.updated').textContent())?.trim();
        await go(editor.page, we, 'editor: dashboard (published)', '/newsroom');
        assert.equal(
          await editor.page.locator('section[aria-labelledby="sec-published"] a', { hasText: headline }).count(),
          1,
          'the story is listed under "Recently published"',
        );

        // The editor corrects it.
        const wrong = `The pumps were on 14 farms (${RUN}).`;
        const right = `The pumps are on 40 farms (${RUN}).`;
        await go(editor.page, we, 'editor: story (published)', `/newsroom/stories/${id}`);
        await editor.page.screenshot({ path: path.join(ARTIFACTS, 'newsroom-editor.png'), fullPage: true, timeout: 30_000 });
        await editor.page.getByLabel('What was wrong').fill(wrong);
        await editor.page.getByLabel('What is right').fill(right);
        await submit(editor.page, we, 'editor: correction', button(editor.page, 'Add correction'), { status: 200 });
        assert.equal((await editor.page.locator('section.nr-corrections li').count()), 1, 'the newsroom lists the correction');
        say('correction added');

        await go(reader.page, wr, 'reader: the story after the correction', publicPath);
        const corr = (await reader.page.locator('section.corrections').textContent()) ?? '';
        assert.ok(corr.includes(right), `section.corrections shows what is right: ${corr}`);
        assert.ok(corr.includes(wrong), `section.corrections shows what was wrong: ${corr}`);
        const updatedAfter = await reader.page.locator('p.timestamps time.updated').getAttribute('datetime');
        const updatedTextAfter = (await reader.page.locator('p.timestamps time.updated').textContent())?.trim();
        say(`Updated: ${updatedTextBefore} (${updatedBefore}) → ${updatedTextAfter} (${updatedAfter})`);
        assert.ok(Date.parse(updatedAfter) > Date.parse(updatedBefore), `Updated time did not move: ${updatedBefore} → ${updatedAfter}`);
        await go(reader.page, wr, 'reader: /corrections', '/corrections');
        const item = reader.page.locator('main li.card', { has: reader.page.locator(`a[href="${publicPath}"]`) });
        assert.equal(await item.count(), 1, '/corrections lists the story');
        assert.ok(((await item.textContent()) ?? '').includes(right), '/corrections shows the correction');

        // Screenshots of the newsroom.
        await go(editor.page, we, 'editor: dashboard for the screenshot', '/newsroom');
        await editor.page.screenshot({ path: path.join(ARTIFACTS, 'newsroom-dashboard.png'), fullPage: true, timeout: 30_000 });
        await go(editor.page, we, 'editor: story for the screenshot', `/newsroom/stories/${id}`);
        await editor.page.screenshot({ path: path.join(ARTIFACTS, 'newsroom-editor.png'), fullPage: true, timeout: 30_000 });
        const phone = await newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
        try {
          await phone.context.addCookies(await editor.context.cookies(server.url));
          await phone.page.goto(server.url + `/newsroom/stories/${id}`);
          const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          await phone.page.screenshot({ path: path.join(ARTIFACTS, 'newsroom-editor-mobile.png'), fullPage: true, timeout: 30_000 });
          say(`editor on a phone scrolls sideways by ${overflow}px`);
        } finally {
          await phone.context.close();
        }
      } finally {
        console.log(`flow test:\n  ${log.join('\n  ')}`);
        for (const c of [writer, editor, reader]) await c.context.close();
      }
      const problems = [...ww.problems, ...we.problems, ...wr.problems];
      assert.deepEqual(problems, []);
    });

    // -----------------------------------------------------------------------------------------
    it('forged cross-site requests create nothing; a new login gets a new session', { timeout: 120_000 }, async () => {
      const forged = {
        same: `Forged ${RUN} same-site story`,
        cross: `Forged ${RUN} cross-site story`,
        token: `Forged ${RUN} guessed-token story`,
      };
      const attackerPort = await freePort();
      const form = (headline, extra = '') =>
        `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Win a prize</title></head><body>` +
        `<form method="post" action="${server.url}/newsroom/stories/new">` +
        `<input name="headline" value="${headline}"><input name="summary" value="forged">` +
        `<input name="body_md" value="forged body"><input name="kind" value="news"><input name="sector" value="health">` +
        `<input name="edition" value="global"><input name="action" value="save">${extra}` +
        `</form><script>document.forms[0].submit()</script></body></html>`;
      const pages = {
        '/same': form(forged.same),
        '/cross': form(forged.cross),
        '/token': form(forged.token, '<input name="csrf" value="00000000000000000000000000000000">'),
      };
      const attacker = http.createServer((req, res) => {
        const body = pages[req.url];
        res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
        res.end(body ?? 'no');
      });
      await new Promise((r) => attacker.listen(attackerPort, '127.0.0.1', r));
      const { context, page } = await newPage();
      const w = watch(page, 'csrf');
      try {
        await login(page, USERS.editor, w);
        const results = [];
        for (const [name, origin] of [
          ['same', `http://127.0.0.1:${attackerPort}`], // same site (another port): SameSite=Lax sends the cookie
          ['cross', `http://localhost:${attackerPort}`], // another site: the cookie stays home
          ['token', `http://127.0.0.1:${attackerPort}`],
        ]) {
          const posted = page.waitForRequest((r) => r.url() === `${server.url}/newsroom/stories/new` && r.method() === 'POST', { timeout: 20_000 });
          const answered = page.waitForResponse((r) => r.url() === `${server.url}/newsroom/stories/new` && r.request().method() === 'POST', { timeout: 20_000 });
          await page.goto(`${origin}/${name}`);
          const req = await posted;
          const res = await answered;
          const headers = await req.allHeaders();
          const sentCookie = (headers.cookie ?? '').includes(SESSION_COOKIE);
          await page.waitForURL((u) => u.href.startsWith(server.url), { timeout: 20_000, waitUntil: 'load' });
          const heading = (await page.locator('h1').first().textContent().catch(() => ''))?.trim();
          results.push(`${name}: from ${origin}, cookie ${sentCookie ? 'sent' : 'not sent'}, Sec-Fetch-Site ${headers['sec-fetch-site']}, Origin ${headers.origin} → ${res.status()} "${heading}"`);
          assert.ok(res.status() === 403, `the forged POST from ${origin} answered ${res.status()} (${heading}), not 403`);
          assert.ok(!/\/newsroom\/stories\/\d+/.test(page.url()), `the forged POST led to a story: ${page.url()}`);
        }
        console.log(`forged requests:\n  ${results.join('\n  ')}`);
        // Nothing was made: search the dashboard (all sections) for the forged headlines.
        await go(page, w, 'csrf: dashboard search', `/newsroom?q=${encodeURIComponent(`Forged ${RUN}`)}`);
        const rows = await page.locator('.nr-section table a').allTextContents();
        assert.deepEqual(rows, [], 'forged stories were created');
        const all = await fetchText('/newsroom?q=Forged', { cookie: (await sessionCookie(context)).value });
        for (const h of Object.values(forged)) assert.ok(!all.body.includes(h), `"${h}" exists`);
        // The session survived (it was not the victim of a forged logout either).
        await go(page, w, 'csrf: dashboard', '/newsroom');
        assert.equal((await page.locator('h1').textContent())?.trim(), 'Dashboard');
      } finally {
        await context.close();
        attacker.close();
      }

      // Sessions: a fixed cookie is replaced at login, logout ends the session, a new login gets a
      // new token.
      const s = await newPage();
      try {
        // A token planted before login (session fixation) is not the one handed out. (Chromium
        // refuses to plant a Secure cookie for an http URL over the DevTools protocol, so this
        // login is made over HTTP.)
        const fixed = '0123456789abcdef0123456789abcdef';
        const planted = await fetch(`${server.url}/newsroom/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${SESSION_COOKIE}=${fixed}`, origin: server.url },
          body: new URLSearchParams({ email: USERS.editor.email, password: USERS.editor.password }).toString(),
          signal: AbortSignal.timeout(30_000),
        });
        assert.equal(planted.status, 303, 'login over HTTP');
        const given = /__Host-newsdesk_session=([0-9a-f]+)/.exec(planted.headers.get('set-cookie') ?? '')?.[1];
        assert.ok(given && given !== fixed, `login kept the planted token (Set-Cookie: ${planted.headers.get('set-cookie')})`);
        const fixation = 'a planted token was replaced';
        const first = await login(s.page, USERS.editor);
        assert.notEqual(first, given, 'two logins got the same token');
        await logout(s.page);
        assert.equal(await sessionCookie(s.context), undefined, 'logout removes the cookie');
        // The old token no longer opens the newsroom.
        const old = await fetchText('/newsroom', { cookie: first });
        assert.equal(old.status, 303, `the logged-out token still answers ${old.status}`);
        assert.equal(old.headers.get('location'), '/newsroom/login');
        const second = await login(s.page, USERS.editor);
        assert.notEqual(second, first, 'a new login reuses the old session token');
        const now = await fetchText('/newsroom', { cookie: second });
        assert.equal(now.status, 200, 'the new token opens the newsroom');
        console.log(`sessions: fixation ${fixation}; tokens ${first.slice(0, 6)}… → ${second.slice(0, 6)}…`);
      } finally {
        await s.context.close();
      }
      assert.deepEqual(w.problems, []);
    });

    // -----------------------------------------------------------------------------------------
    it('axe-core and the Nu HTML Checker on every newsroom page', { timeout: 200_000 }, async () => {
      // axe is injected with the CSP bypassed, for this context only.
      const { context, page } = await newPage({ bypassCSP: true });
      const anon = await newPage({ bypassCSP: true });
      const w = watch(page, 'a11y');
      /** [name, html, axe result] */
      const pages = [];
      const axeOn = async (p, name) => {
        await p.addScriptTag({ path: AXE_PATH });
        const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
        return result.violations;
      };
      /** Checks the page that is open now; html is its source as served. */
      const take = async (p, name, html) => {
        const violations = await axeOn(p, name);
        pages.push({ name, url: p.url(), html, violations });
      };
      const getPage = async (p, name, url, status = 200) => {
        const res = await p.goto(server.url + url, { waitUntil: 'load' });
        assert.equal(res.status(), status, `${name}: ${url} answered ${res.status()}`);
        await take(p, name, await res.text());
      };
      const postPage = async (p, name, locator, status = 200) => {
        const [res] = await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), locator.click()]);
        assert.equal(res.status(), status, `${name} answered ${res.status()}`);
        await take(p, name, await res.text());
      };
      try {
        // Logged out.
        await getPage(anon.page, 'login', '/newsroom/login');
        await anon.page.fill('#email', 'nobody@example.org');
        await anon.page.fill('#password', 'this is the wrong password');
        await postPage(anon.page, 'login-failed', button(anon.page, 'Log in'), 401);

        await login(page, USERS.admin, w);
        const cookie = (await sessionCookie(context)).value;
        await getPage(page, 'dashboard', '/newsroom');
        await getPage(page, 'editor-new', '/newsroom/stories/new');
        await page.fill('#headline', `Accessible story ${RUN}`);
        await page.fill('#summary', 'A story made by the accessibility test.');
        await page.fill('#body_md', '## A heading\n\nA paragraph with a [link](https://example.org/).\n\n- one\n- two\n');
        await page.selectOption('#sector', 'health');
        await page.fill('#tags', `a11y-${RUN}`);
        await postPage(page, 'editor-new-preview', button(page, 'Preview'));
        await postPage(page, 'editor-saved', button(page, 'Save'));
        const id = storyIdOf(page.url());
        await page.fill('#headline', `Accessible story ${RUN}, second version`);
        await page.fill('#body_md', '## A heading\n\nA changed paragraph.\n');
        await postPage(page, 'editor-existing-preview', button(page, 'Preview'));
        await postPage(page, 'editor-saved-again', button(page, 'Save'));
        await postPage(page, 'editor-in-review', button(page, 'Submit for review'));
        await postPage(page, 'editor-published', button(page, 'Publish now'));
        await page.getByLabel('What was wrong').fill('It said one.');
        await page.getByLabel('What is right').fill('It is two.');
        await postPage(page, 'editor-corrected', button(page, 'Add correction'));
        await getPage(page, 'editor-existing', `/newsroom/stories/${id}`);
        await getPage(page, 'history', `/newsroom/stories/${id}/history`);
        await getPage(page, 'audit-log', '/newsroom/audit');
        await getPage(page, 'accounts', '/newsroom/users');
        await page.fill('#inv-email', `invited-${RUN}@example.org`);
        await postPage(page, 'accounts-invitation', button(page, 'Make invitation'));
        const link = (await page.locator('code.invitation-link').textContent())?.trim() ?? '';
        assert.match(link, /\/newsroom\/invitation\/\S+$/, 'an invitation link is shown');
        await getPage(anon.page, 'invitation', new URL(link).pathname);
        await getPage(page, 'not-found', '/newsroom/stories/999999999', 404);
        await getPage(page, 'dashboard-search', `/newsroom?q=${encodeURIComponent('Accessible story')}`);
        // The audience desks: subscribers, the sending history, the feedback queue, API tokens.
        await getPage(page, 'subscribers', '/newsroom/subscribers');
        await getPage(page, 'subscribers-search', '/newsroom/subscribers?q=example');
        await getPage(page, 'newsletter-history', '/newsroom/newsletter');
        await getPage(page, 'feedback-queue', '/newsroom/feedback');
        await getPage(page, 'api-tokens', '/newsroom/admin/tokens');

        // Pages fetched over HTTP with the logged-in cookie must be the same kind of page.
        for (const p of ['/newsroom', '/newsroom/stories/new', `/newsroom/stories/${id}`, `/newsroom/stories/${id}/history`, '/newsroom/audit', '/newsroom/users']) {
          const r = await fetchText(p, { cookie });
          assert.equal(r.status, 200, `GET ${p} with the cookie answered ${r.status}`);
          assert.match(r.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/i);
          assert.equal(r.headers.get('cache-control'), 'no-store', `${p} Cache-Control`);
          pages.push({ name: `http${p.replace(/\//g, '_')}`, url: p, html: r.body, violations: [] });
        }

        // axe: serious and critical violations fail.
        const bad = seriousViolations(pages, 'the newsroom');

        // The Nu HTML Checker on the served HTML.
        const { lines, code } = await nuErrors(pages, 'newsdesk-vnu-nr-');
        assert.deepEqual(bad, [], 'axe: serious or critical violations on newsroom pages');
        assert.deepEqual(lines, [], 'Nu HTML Checker errors on newsroom pages');
        assert.equal(code, 0, `vnu exited ${code}`);
      } finally {
        await context.close();
        await anon.context.close();
      }
    });

    // -----------------------------------------------------------------------------------------
    it('wire desk: inbox and filters, a cluster compared, a story made from it, sources; axe, Nu, no console errors', { timeout: 200_000 }, async () => {
      const h = wire.headlines;
      const admin = await newPage();
      const editor = await newPage();
      const wa = watch(admin.page, 'wire admin');
      const we = watch(editor.page, 'wire editor');
      const consoleErrors = [];
      for (const [page, who] of [[admin.page, 'admin'], [editor.page, 'editor']]) watchConsole(page, who, consoleErrors);
      /** [{ name, url, html, violations }] */
      const pages = [];
      /** After go() or submit() (which looked through the DOM): the served HTML and axe. */
      const take = async (page, w, name, res) => {
        const html = await res.text();
        pages.push({ name, url: page.url(), html, violations: await axeViolations(page) });
      };
      const open = async (page, w, name, p, { status = 200 } = {}) => {
        const res = await go(page, w, name, p, { status });
        await take(page, w, name, res);
      };
      const send = async (page, w, name, locator, { status = 200 } = {}) => {
        const res = await submit(page, w, name, locator, { status });
        await take(page, w, name, res);
      };
      const log = [];
      try {
        // The admin adds the pushing agency's source through the form.
        await login(admin.page, USERS.admin, wa);
        await open(admin.page, wa, 'sources-empty', '/newsroom/sources');
        assert.equal(await admin.page.getByRole('heading', { name: 'Add a source' }).count(), 1, 'admins get the form');
        await admin.page.getByLabel('Agency name').fill(AGENCIES.lakeside);
        await admin.page.getByLabel('Poll every').fill('0');
        await send(admin.page, wa, 'sources-invalid', button(admin.page, 'Add source'), { status: 400 });
        assert.match(await admin.page.locator('main [role=alert]').textContent(), /1 to 1,440 minutes/, 'the error is shown');
        // What was typed is still there, the wrong field marked.
        assert.equal(await admin.page.getByLabel('Agency name').inputValue(), AGENCIES.lakeside, 'the form keeps the name');
        assert.equal(await admin.page.getByLabel('Poll every').getAttribute('aria-invalid'), 'true', 'the interval is marked wrong');
        assert.equal(await admin.page.getByLabel('Agency name').getAttribute('aria-invalid'), null, 'the name is not');
        await admin.page.getByLabel('Poll every').fill('30');
        await send(admin.page, wa, 'sources-added', button(admin.page, 'Add source'));
        const notice = (await admin.page.locator('main [role=status]').textContent()) ?? '';
        const m = /push to (\S+\/api\/wire\/(\d+)) with the header "Authorization: Bearer ([0-9a-f]+)"/.exec(notice);
        assert.ok(m, `the notice names the push address and token: ${notice}`);
        assert.equal(m[1], `${server.url}/api/wire/${m[2]}`, 'the push address is on this site');
        const [, pushUrl, , token] = m;

        // It pushes its report of the floods (a wrong token is refused first).
        const push = (tok) =>
          fetch(pushUrl, {
            method: 'POST',
            headers: { authorization: `Bearer ${tok}`, 'content-type': wire.push.contentType },
            body: wire.push.body,
            signal: AbortSignal.timeout(30_000),
          });
        const refused = await push('0'.repeat(48));
        assert.equal(refused.status, 401, 'a wrong token is refused');
        const pushed = await push(token);
        const report = await pushed.json();
        assert.equal(pushed.status, 200, `push answered ${pushed.status}: ${JSON.stringify(report)}`);
        assert.equal(report.new, 1, `push: ${JSON.stringify(report)}`);
        log.push(`ingest: ${server.ingested.trim().replace(/\n/g, '; ')}; push: ${JSON.stringify(report)}`);

        await open(admin.page, wa, 'sources-health', '/newsroom/sources');
        const health = await admin.page.evaluate(() =>
          [...document.querySelectorAll('main table tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((c) => c.textContent.trim())),
        );
        const lake = health.find((r) => r[0] === 'Lakeside Bulletin');
        assert.ok(lake, `the source is listed: ${JSON.stringify(health)}`);
        assert.equal(lake[1], 'push only');
        assert.notEqual(lake[2], 'never', 'the push counts as a success');
        assert.equal(lake[6], '1', 'one item in the last 24 hours');

        // The source's own page: health per day, settings, and an auto-publish rule set by form.
        const lakeHref = await admin.page.getByRole('link', { name: AGENCIES.lakeside, exact: true }).getAttribute('href');
        await open(admin.page, wa, 'source-page', lakeHref);
        assert.match((await admin.page.locator('main').textContent()) ?? '', /Items received per day/);
        assert.deepEqual(
          await admin.page.locator('main table tbody tr').first().locator('td').allTextContents(),
          ['Last 24 hours', '1'],
          'the push counted today',
        );
        await admin.page.getByLabel('Publish matching items automatically').check();
        await admin.page.getByRole('checkbox', { name: 'Health', exact: true }).check();
        await admin.page.getByLabel('Urgency').selectOption('2');
        await send(admin.page, wa, 'source-rule-saved', button(admin.page, 'Save rule'));
        assert.match((await admin.page.locator('.notice').textContent()) ?? '', /Saved/);
        assert.ok(await admin.page.getByLabel('Publish matching items automatically').isChecked(), 'the rule is on');
        await admin.page.getByLabel('Publish matching items automatically').uncheck();
        await send(admin.page, wa, 'source-rule-off', button(admin.page, 'Save rule'));
        assert.ok(!(await admin.page.getByLabel('Publish matching items automatically').isChecked()), 'and off again');

        // An editor reads the wire.
        await login(editor.page, USERS.editor, we);
        await open(editor.page, we, 'sources-editor', '/newsroom/sources');
        assert.equal(await editor.page.getByRole('heading', { name: 'Add a source' }).count(), 0, 'only admins add sources');

        await open(editor.page, we, 'wire-inbox', '/newsroom/wire');
        const all = await wireRows(editor.page);
        const row = (rows, headline) => rows.find((r) => r.event === headline);
        const floods = row(all, h.floods.harbour);
        assert.ok(floods, `the floods are in the inbox under the first report's headline: ${JSON.stringify(all)}`);
        assert.equal(floods.items, 3, `three reports of the floods in one cluster: ${JSON.stringify(floods)}`);
        for (const a of Object.values(AGENCIES)) assert.ok(floods.agencies.includes(a), `${a} in ${floods.agencies}`);
        assert.equal(floods.editions, 'east-africa');
        assert.ok(row(all, h.final.harbour), 'the final is in the inbox');
        assert.ok(row(all, h.sommet.meridian), 'the summit is in the inbox');
        log.push(`inbox: ${all.map((r) => `${r.event} [${r.agencies}; ${r.sector}; ${r.editions}]`).join(' | ')}`);

        // Filters, through the form.
        const filter = async (name, values, want) => {
          for (const f of ['agency', 'sector', 'edition', 'language']) {
            const field = editor.page.getByLabel(f[0].toUpperCase() + f.slice(1), { exact: true });
            // Sector and edition are pick-lists of the site's own slugs; agency and language are typed.
            if (f === 'sector' || f === 'edition') await field.selectOption(values[f] ?? '');
            else await field.fill(values[f] ?? '');
          }
          await send(editor.page, we, name, button(editor.page, 'Filter'));
          const u = new URL(editor.page.url());
          for (const [k, v] of Object.entries(values)) assert.equal(u.searchParams.get(k), v, `${name}: ${k} in the address`);
          const got = (await wireRows(editor.page)).map((r) => r.event).filter((e) => e.includes(RUN)).sort();
          assert.deepEqual(got, [...want].sort(), `${name}: ${JSON.stringify(values)}`);
          for (const [k, v] of Object.entries(values)) {
            assert.equal(await editor.page.getByLabel(k[0].toUpperCase() + k.slice(1), { exact: true }).inputValue(), v, `${name}: the form keeps ${k}`);
          }
        };
        await filter('wire-filter-agency', { agency: AGENCIES.meridian }, [h.floods.harbour, h.sommet.meridian]);
        await filter('wire-filter-sector', { sector: 'sports' }, [h.final.harbour]);
        await filter('wire-filter-edition', { edition: 'east-africa' }, [h.floods.harbour]);
        await filter('wire-filter-language', { language: 'fr' }, [h.sommet.meridian]);
        await filter('wire-filter-combined', { agency: AGENCIES.harbour, edition: 'west-africa' }, [h.final.harbour]);
        await filter('wire-filter-none', { agency: 'No Such Agency' }, []);
        assert.match((await editor.page.locator('main p.empty').textContent()) ?? '', /No event matches these filters/, 'an empty result says so');

        // The cluster: every agency's version side by side, differences marked.
        await open(editor.page, we, 'wire-cluster', floods.href);
        assert.equal((await editor.page.locator('h1').textContent())?.trim(), h.floods.harbour);
        const versions = await editor.page.evaluate(() =>
          [...document.querySelectorAll('main section.wire-item')].map((s) => ({
            heading: s.querySelector('h2')?.textContent.trim() ?? '',
            headline: s.querySelector('h3')?.textContent.trim() ?? '',
            body: s.querySelector('.body')?.textContent.trim() ?? '',
            diff: s.querySelector('details summary')?.textContent.trim() ?? '',
            ins: [...s.querySelectorAll('details .diff ins')].map((e) => e.textContent.trim()),
            del: [...s.querySelectorAll('details .diff del')].map((e) => e.textContent.trim()),
            // What a screen reader reads: the marks are named, not only coloured.
            spoken: s.querySelector('details .diff')?.textContent.replace(/\s+/g, ' ').trim() ?? '',
          })),
        );
        assert.ok(versions.length >= 2, `at least two versions: ${JSON.stringify(versions)}`);
        assert.equal(versions.length, 3, 'one version per agency');
        for (const a of Object.values(AGENCIES)) assert.ok(versions.some((v) => v.heading.startsWith(a)), `${a}'s version is shown`);
        for (const [k, a] of Object.entries(AGENCIES)) {
          const v = versions.find((x) => x.heading.startsWith(a));
          assert.equal(v.headline, h.floods[k], `${a}'s own headline`);
          assert.match(v.body, /Nairobi/, `${a}'s own text`);
        }
        const [first, ...others] = versions;
        assert.equal(first.diff, '', 'the first report is the reference');
        for (const v of others) {
          assert.equal(v.diff, 'Differences from the first report', `${v.heading}: differences offered`);
          assert.ok(v.ins.length > 0 && v.del.length > 0, `${v.heading}: additions and removals marked: ${JSON.stringify(v)}`);
        }
        const meridian = versions.find((v) => v.heading.startsWith(AGENCIES.meridian));
        assert.ok(meridian.del.includes('12') && meridian.ins.includes('14'), `the death toll's change is marked: ${JSON.stringify(meridian)}`);
        assert.match(meridian.spoken, /At least \[removed: 12 \]\[added: 14 \]people died/, 'the marks are named for screen readers');
        // An agency's picture is a link to its file, not an image loaded from the agency.
        assert.equal(await editor.page.locator('main section.wire-item img').count(), 0, 'no agency image is loaded');
        const picture = editor.page.getByRole('link', { name: 'Agency picture: A flooded street in Mathare' });
        assert.equal(await picture.getAttribute('href'), 'https://photos.meridianwire.example/2024/nairobi-floods.jpg');
        // The marks can be seen once the details are open (axeViolations opened them).
        assert.ok(await editor.page.locator('section.wire-item details ins').first().isVisible(), 'insertions are visible');
        assert.ok(await editor.page.locator('section.wire-item details del').first().isVisible(), 'removals are visible');
        const colours = await editor.page.evaluate(() => {
          const st = (sel) => getComputedStyle(document.querySelector(sel));
          const ins = st('section.wire-item details ins');
          const del = st('section.wire-item details del');
          return { ins: ins.backgroundColor, del: del.backgroundColor, delLine: del.textDecorationLine };
        });
        assert.notEqual(colours.ins, colours.del, `insertions and removals look different: ${JSON.stringify(colours)}`);
        assert.match(colours.delLine, /line-through/, 'removals are struck through, not shown by colour alone');

        // The editor accepts the summary draft.
        await editor.page.getByLabel('Summary', { exact: true }).fill(`Floods in Nairobi (${RUN}): at least 12 dead, thousands displaced.`);
        await send(editor.page, we, 'wire-cluster-summary', button(editor.page, 'Accept summary'));
        assert.match(await editor.page.locator('#sum-title').textContent(), /accepted/, 'the summary is accepted');

        // The single report with hostile markup in its body.
        const final = row(all, h.final.harbour);
        await open(editor.page, we, 'wire-cluster-single', final.href);
        assert.equal(await editor.page.locator('main section.wire-item').count(), 1);
        const single = (await editor.page.locator('main section.wire-item .body').textContent()) ?? '';
        assert.match(single, /Tickets sold out/);
        assert.match(single, /\(Agency picture: no description\)/, 'a picture with a relative address is described');
        assert.equal(await editor.page.getByRole('link', { name: 'Agency picture: The Accra Sports Stadium' }).count(), 1);
        assert.equal(await editor.page.locator('main section.wire-item img').count(), 0, 'no agency image is loaded');

        // A story from the floods cluster: a draft in the editor, pre-filled from the copy.
        await open(editor.page, we, 'wire-cluster-again', floods.href);
        await send(editor.page, we, 'wire-story-draft', button(editor.page, 'Make a story from this'));
        const storyId = storyIdOf(editor.page.url());
        assert.match(await editor.page.locator('h1 .status').textContent(), /draft/, 'the story is a draft');
        assert.equal(await editor.page.inputValue('#headline'), h.floods.harbour, 'headline from the first report');
        assert.match(await editor.page.inputValue('#summary'), new RegExp(`Floods in Nairobi \\(${RUN}\\)`), 'the accepted summary');
        assert.match(await editor.page.inputValue('#body_md'), /Nairobi River burst its banks/, 'body from the first report');
        const source = await editor.page.inputValue('#source');
        for (const a of Object.values(AGENCIES)) assert.ok(source.includes(a), `source names ${a}: ${source}`);
        log.push(`story ${storyId} made from cluster ${floods.href}; source "${source}"`);
        await send(editor.page, we, 'wire-story-preview', button(editor.page, 'Preview'));
        await open(editor.page, we, 'wire-story-reopened', `/newsroom/stories/${storyId}`);

        // axe (serious and critical fail) and the Nu HTML Checker on every page seen; all that is
        // wrong is reported at once.
        const axe = seriousViolations(pages, 'the wire desk');
        const nu = await nuErrors(pages, 'newsdesk-vnu-wire-');
        log.push(`${pages.length} pages checked: ${pages.map((p) => p.name).join(', ')}`);
        assert.deepEqual(
          { axe, nu: nu.lines, console: consoleErrors, problems: [...wa.problems, ...we.problems] },
          { axe: [], nu: [], console: [], problems: [] },
          'wire desk pages: axe serious/critical violations, Nu HTML Checker errors, console errors, unsafe markup',
        );
        assert.equal(nu.code, 0, `vnu exited ${nu.code}`);
      } finally {
        console.log(`wire desk test:\n  ${log.join('\n  ')}`);
        await admin.context.close();
        await editor.context.close();
      }
    });

    // -----------------------------------------------------------------------------------------
    it(
      'wire desk: a story made from agency copy with pictures does not load them from the agency',
      { timeout: 120_000 },
      async () => {
        const { context, page } = await newPage();
        const w = watch(page, 'wire pictures');
        const errors = [];
        watchConsole(page, 'editor', errors);
        try {
          await login(page, USERS.editor, w);
          await go(page, w, 'wire pictures: inbox', `/newsroom/wire?sector=sports&agency=${encodeURIComponent(AGENCIES.harbour)}`);
          const final = (await wireRows(page)).find((r) => r.event === wire.headlines.final.harbour);
          assert.ok(final, 'the final is in the inbox');
          await go(page, w, 'wire pictures: cluster', final.href);
          const res = await submit(page, w, 'wire pictures: draft', button(page, 'Make a story from this'), { status: 200 });
          const html = await res.text();
          const body = await page.inputValue('#body_md');
          const offSite = [...body.matchAll(/<img\b[^>]*\bsrc="([^"]*)"/g)].map((m) => m[1]).filter((u) => !u.startsWith('/'));
          const nu = await nuErrors([{ name: 'wire-pictures-draft', html }], 'newsdesk-vnu-wire-pictures-');
          assert.deepEqual(
            { offSite, console: errors, problems: w.problems, nu: nu.lines },
            { offSite: [], console: [], problems: [], nu: [] },
            'the draft made from agency copy with pictures',
          );
        } finally {
          await context.close();
        }
      },
    );
  });
});
