// End-to-end tests of the newsdesk reader site in a real browser (Debian's Chromium driven by
// playwright-core), plus accessibility (axe-core), HTML validity (Nu HTML Checker) and bad input
// over plain HTTP.
//
// Run from the repository root:
//   NEWSDESK_BIN=target/release/newsdesk node --test tests/browser/
//
// One server (fresh data dir, --demo) and one browser are shared by every test in this file.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const AXE_PATH = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const VNU_JAR = path.join(HERE, 'node_modules', 'vnu-jar', 'build', 'dist', 'vnu.jar');
const ARTIFACTS = path.resolve(process.env.NEWSDESK_ARTIFACTS || path.join(REPO, 'target', 'artifacts'));
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

const TIMESTAMPS_RE =
  /^Updated: \d{2}-\d{2}-\d{4} \d{2}:\d{2} [A-Z+\-0-9]+ \| Created: \d{2}-\d{2}-\d{4} \d{2}:\d{2} [A-Z+\-0-9]+$/;
/** Rail titles are cut to this many characters (crates/web/src/views.rs RAIL_TITLE_CHARS). */
const RAIL_TITLE_CHARS = 72;
const AGENCY_LINE = '(With inputs from agencies.)';
const UNEDITED_LINE =
  '(This story has not been edited by staff and is auto-generated from a syndicated feed.)';

let server; // { url, stop }
let browser;
/** Paths of one page of each kind, found from the running site in `before`. */
const P = {};

// ---------------------------------------------------------------------------------------------
// Helpers

async function http(p, { redirect = 'manual' } = {}) {
  const res = await fetch(server.url + p, { redirect, signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body };
}

async function json(p) {
  const r = await http(p);
  assert.equal(r.status, 200, `GET ${p} answered ${r.status}`);
  return JSON.parse(r.body);
}

/** Site path of an absolute URL from a feed. */
function sitePath(u) {
  const url = new URL(u);
  return url.pathname + url.search;
}

/** `dd-MM-yyyy HH:mm TZ` → { minutes since the epoch as if the wall clock were UTC, zone }. */
function parseStamp(s) {
  const m = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}) (\S+)$/.exec(s.trim());
  assert.ok(m, `timestamp ${JSON.stringify(s)} is not "dd-MM-yyyy HH:mm TZ"`);
  const [, d, mo, y, h, mi, zone] = m;
  return { wall: Date.UTC(+y, +mo - 1, +d, +h, +mi) / 60_000, zone };
}

async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  context.setDefaultTimeout(20_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  return { context, page };
}

/** Runs `fn(page)` in a fresh context and always closes it. */
async function withPage(opts, fn) {
  const { context, page } = await newPage(opts);
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

/** Scrolls down a screen at a time (bounded) so lazy images load, then back to the top. */
async function scrollThrough(page) {
  await page.evaluate(async () => {
    const step = Math.max(200, window.innerHeight - 100);
    for (let y = 0, n = 0; y < document.documentElement.scrollHeight && n < 80; y += step, n++) {
      window.scrollTo(0, y);
      await new Promise((r) => setTimeout(r, 50));
    }
    window.scrollTo(0, document.documentElement.scrollHeight);
  });
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => {});
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 10_000 }).catch(() => {});
  await page.evaluate(() => window.scrollTo(0, 0));
}

/** Images that finished loading but have no pixels (broken). */
async function brokenImages(page) {
  return page.evaluate(() =>
    [...document.images].filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.currentSrc || i.src),
  );
}

function pageKinds() {
  return [
    ['home', '/'],
    ['edition-home', '/south-asia'],
    ['article', P.article],
    ['opinion-article', P.opinion],
    ['sector-listing', '/sector/health'],
    ['kind-listing', '/kind/opinion'],
    ['tag-listing', P.tag],
    ['author-listing', P.author],
    ['desk-listing', P.desk],
    ['archive', P.archive],
    ['static-page', '/about'],
    ['not-found', '/no-such-page-for-tests'],
  ];
}

/** Finds the pages the tests need from the site itself (feeds and article HTML). */
async function discover() {
  const feed = await json('/feed.json');
  assert.ok(Array.isArray(feed.items) && feed.items.length > 0, '/feed.json has no items');
  // An article with every part of the anatomy: agency provenance, hero, tags and related stories.
  const candidates = [
    ...feed.items.filter((i) => (i.content_html || '').includes(AGENCY_LINE)),
    ...feed.items.filter((i) => !(i.content_html || '').includes(AGENCY_LINE)),
  ];
  // Plain news stories first (no "Press Release:"-style label), then any kind.
  for (const item of [...candidates.slice(0, 40), ...candidates.slice(0, 40)]) {
    const firstPass = !P.scanned?.has(item.url);
    (P.scanned ??= new Set()).add(item.url);
    const p = sitePath(item.url);
    const r = await http(p);
    if (r.status !== 200) continue;
    const b = r.body;
    if (firstPass && !b.includes('<article class="story kind-news">')) continue;
    if (
      b.includes(`<p class="provenance">${AGENCY_LINE}</p>`) &&
      b.includes('<figure class="hero">') &&
      b.includes('<ul class="tags"') &&
      b.includes('<section class="related"')
    ) {
      P.article = p;
      P.articleTitle = item.title;
      P.tag = /<ul class="tags"[^>]*><li><a href="([^"]+)"/.exec(b)?.[1];
      P.desk ??= /<p class="byline">[^\n]*?<a href="(\/desk\/[^"]+)"/.exec(b)?.[1];
      break;
    }
  }
  assert.ok(P.article, `no story in /feed.json has ${AGENCY_LINE}, a hero image, tags and related stories`);

  const opinions = await json('/kind/opinion/feed.json');
  assert.ok(opinions.items?.length > 0, '/kind/opinion/feed.json has no items');
  P.opinion = sitePath(opinions.items[0].url);
  for (const item of opinions.items.slice(0, 20)) {
    const r = await http(sitePath(item.url));
    P.author ??= /<p class="byline">[^\n]*?<a href="(\/author\/[^"]+)"/.exec(r.body)?.[1];
    if (P.author) break;
  }
  if (!P.desk) {
    for (const item of feed.items.slice(0, 40)) {
      const r = await http(sitePath(item.url));
      P.desk = /<p class="byline">[^\n]*?<a href="(\/desk\/[^"]+)"/.exec(r.body)?.[1];
      if (P.desk) break;
    }
  }
  const home = await http('/');
  P.archive = /href="(\/archive\/\d{4}\/\d{2})"/.exec(home.body)?.[1];
  const missing = ['tag', 'author', 'desk', 'archive'].filter((k) => !P[k]);
  assert.deepEqual(missing, [], `could not find links to: ${missing.join(', ')}`);
}

// ---------------------------------------------------------------------------------------------

describe('newsdesk reader site', { timeout: 300_000 }, () => {
  before(async () => {
    server = await startServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
    await discover();
    mkdirSync(ARTIFACTS, { recursive: true });
  }, { timeout: 200_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  }, { timeout: 30_000 });

  it('article page anatomy: every part, in order, with the right text', { timeout: 60_000 }, async () => {
    await withPage({}, async (page) => {
      const res = await page.goto(server.url + P.article, { waitUntil: 'load' });
      assert.equal(res.status(), 200);

      // Every part, in document order.
      const order = [
        'header .dateline',
        'details.edition-switch',
        'nav.leftmenu',
        'main',
        'main nav.breadcrumbs',
        'main h1.headline',
        'main p.summary',
        'main p.byline',
        'main p.timestamps',
        'main figure.hero',
        'main div.body',
        'main p.provenance',
        'main ul.tags',
        'main section.related',
        'aside.rail',
        'aside.rail section.trending',
        'aside.rail section.column.rail-opinion',
        'aside.rail section.column.rail-blog',
        'aside.rail section.column.rail-interviews',
        'aside.rail section.shorts',
        'aside.rail section.latest',
        'aside.rail section.reader-links',
        'footer.sitefoot',
        'footer.sitefoot .contact',
        'footer.sitefoot .legal',
        'footer.sitefoot .copyright',
      ];
      const found = await page.evaluate((sels) => {
        const els = sels.map((s) => document.querySelectorAll(s));
        const counts = els.map((l) => l.length);
        const out = [];
        for (let i = 1; i < sels.length; i++) {
          const a = els[i - 1][0];
          const b = els[i][0];
          if (a && b && !(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING)) {
            out.push(`${sels[i]} does not come after ${sels[i - 1]}`);
          }
        }
        return { counts, order: out };
      }, order);
      const absent = order.filter((_, i) => found.counts[i] === 0);
      assert.deepEqual(absent, [], `missing on ${P.article}`);
      const dup = order.filter((s, i) => found.counts[i] !== 1 && !s.startsWith('main') && s !== 'footer.sitefoot');
      assert.deepEqual(dup, [], 'parts that should appear once appear more than once');
      assert.deepEqual(found.order, [], 'document order');

      const text = async (sel) => ((await page.locator(sel).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

      // Masthead and menu.
      assert.match(await text('header .dateline'), /\d{4}.*Global edition \(UTC\)/);
      const menu = await page.locator('nav.leftmenu a').allTextContents();
      for (const want of ['Health', 'Agro-Forestry', 'South Asia', 'East Africa', 'Opinion']) {
        assert.ok(menu.some((t) => t.trim() === want), `left menu lacks "${want}": ${menu.join(', ')}`);
      }
      // Breadcrumbs: Home › sector › this story.
      const crumbs = await page.locator('nav.breadcrumbs li').allTextContents();
      assert.ok(crumbs.length >= 2, `breadcrumbs: ${crumbs}`);
      assert.equal(crumbs[0].trim(), 'Home');
      assert.equal(await page.locator('nav.breadcrumbs li:last-child [aria-current="page"]').count(), 1);

      // Headline, dek, byline, timestamps.
      const kindLabel = (await page.locator('h1.headline span.kind-label').count())
        ? await text('h1.headline span.kind-label')
        : '';
      assert.equal(await text('h1.headline'), kindLabel ? `${kindLabel} ${P.articleTitle}` : P.articleTitle);
      assert.equal(await page.locator('h1').count(), 1, 'one h1 on the page');
      assert.ok((await text('p.summary')).length > 20, 'summary is a sentence');
      const byline = await page.locator('p.byline a').allTextContents();
      assert.ok(byline.length >= 1 && byline.every((b) => b.trim().length > 0), `byline links: ${byline}`);
      const stamps = await text('p.timestamps');
      assert.match(stamps, TIMESTAMPS_RE);
      assert.match(stamps, / UTC \| Created: .* UTC$/, 'Global edition shows UTC');
      for (const t of ['time.updated', 'time.created']) {
        const dt = await page.locator(`p.timestamps ${t}`).getAttribute('datetime');
        assert.match(dt ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, `${t} datetime`);
        const shown = parseStamp(await text(`p.timestamps ${t}`));
        assert.equal(shown.wall, Math.floor(Date.parse(dt) / 60_000), `${t} text matches its datetime (UTC)`);
      }

      // Hero picture: srcset, caption, and actually loaded.
      const hero = page.locator('figure.hero img');
      assert.ok(((await hero.getAttribute('srcset')) ?? '').includes('w,'), 'hero srcset has several widths');
      assert.ok(((await hero.getAttribute('alt')) ?? '').length > 0, 'hero alt text');
      assert.ok((await text('figure.hero figcaption')).length > 0, 'hero caption');
      await page.waitForFunction(
        () => { const i = document.querySelector('figure.hero img'); return i && i.complete; },
        null,
        { timeout: 15_000 },
      );
      const natural = await hero.evaluate((i) => i.naturalWidth);
      assert.ok(natural > 0, 'hero image loaded (naturalWidth > 0)');

      assert.ok((await page.locator('main div.body p').count()) >= 1, 'body has paragraphs');
      assert.equal(await text('p.provenance'), AGENCY_LINE);
      assert.ok((await page.locator('ul.tags li a[rel="tag"]').count()) >= 1, 'tags');
      assert.ok((await page.locator('section.related li a').count()) >= 1, 'related stories');

      // Rail: TRENDING numbered, with region labels, titles cut with an ellipsis.
      assert.equal(await text('section.trending h2'), 'TRENDING');
      assert.equal(await page.locator('section.trending > ol').count(), 1, 'trending is an <ol>');
      const listStyle = await page.locator('section.trending > ol').evaluate((o) => getComputedStyle(o).listStyleType);
      assert.notEqual(listStyle, 'none', 'trending list shows its numbers (list-style-type)');
      const trending = await page.locator('section.trending > ol > li').evaluateAll((lis) =>
        lis.map((li) => {
          const a = li.querySelector('a');
          return {
            text: a?.textContent ?? '',
            full: a?.getAttribute('title') ?? a?.textContent ?? '',
            region: li.querySelector('span.region')?.textContent?.trim() ?? '',
          };
        }),
      );
      assert.ok(trending.length >= 5, `trending has ${trending.length} items`);
      for (const t of trending) {
        assert.ok(t.region.length > 0, `trending item without a region label: ${t.text}`);
        const fullLen = [...t.full].length;
        if (fullLen > RAIL_TITLE_CHARS) {
          assert.ok(t.text.endsWith('…'), `long trending title not cut with "…": ${t.text}`);
          assert.ok([...t.text].length <= RAIL_TITLE_CHARS, `cut title too long: ${t.text}`);
          const kept = t.text.slice(0, -1);
          assert.ok(t.full.startsWith(kept), `cut title is not a prefix of the full title: ${t.text}`);
          assert.match(t.full.slice(kept.length), /^[\s,.;:!?—–-]/u, `cut not at a word boundary: ${t.text}`);
        } else {
          assert.equal(t.text, t.full, 'a short trending title is shown whole');
          assert.ok(!t.text.endsWith('…'), `short title ends with an ellipsis: ${t.text}`);
        }
      }
      assert.ok(
        trending.some((t) => t.text.endsWith('…')) || trending.every((t) => [...t.full].length <= RAIL_TITLE_CHARS),
        'some trending title is cut',
      );

      // Columns, shorts, latest.
      assert.equal(await text('section.rail-opinion h2'), 'OPINION');
      assert.equal(await text('section.rail-blog h2'), 'BLOG');
      assert.equal(await text('section.rail-interviews h2'), 'INTERVIEW');
      for (const s of ['rail-opinion', 'rail-blog', 'rail-interviews']) {
        assert.ok((await page.locator(`section.${s} li a`).count()) >= 1, `${s} has items`);
      }
      assert.match(await text('section.shorts h2'), /^shorts$/i);
      assert.ok((await page.locator('section.shorts li a').count()) >= 1, 'shorts has items');
      assert.equal(await text('section.latest h2'), 'Latest News');
      assert.ok((await page.locator('section.latest li a').count()) >= 1, 'latest has items');

      // Reader links.
      const reader = (await page.locator('section.reader-links a').allTextContents()).map((t) => t.trim());
      for (const want of ['Give Feedback', 'RSS']) {
        assert.ok(reader.includes(want), `reader links lack "${want}": ${reader.join(', ')}`);
      }
      assert.equal(await text('section.reader-links form.subscribe h2'), 'Subscribe to our Newsletter');
      const social = (await page.locator('section.reader-links ul.social a').allTextContents()).map((t) => t.trim());
      // The publisher's profile links are unset by default, so only our own feed is shown.
      assert.deepEqual(social, ['RSS']);

      // Footer.
      const heads = (await page.locator('footer.sitefoot h2').allTextContents()).map((t) => t.trim());
      assert.deepEqual(heads, ['SECTORS', 'EDITIONS', 'OTHER LINKS', 'OTHER PRODUCTS', 'CONNECT']);
      assert.match(await text('footer .contact'), /@/);
      assert.equal(await text('footer .legal'), 'Disclaimer | Terms of use | Privacy Policy');
      const legal = await page.locator('footer .legal a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(legal, ['/disclaimer', '/terms-of-use', '/privacy-policy']);
      assert.match(await text('footer .copyright'), /©|\(c\)|copyright/i);
      assert.match(await text('footer .copyright'), /\d{4}/);

      // The main parts are visible on a desktop screen.
      for (const sel of ['h1.headline', 'p.timestamps', 'figure.hero img', 'section.trending', 'footer.sitefoot']) {
        assert.ok(await page.locator(sel).first().isVisible(), `${sel} is visible`);
      }
    });
  });

  it('opinion article: "Opinion:" label and OpinionNewsArticle', { timeout: 30_000 }, async () => {
    await withPage({}, async (page) => {
      const res = await page.goto(server.url + P.opinion);
      assert.equal(res.status(), 200);
      assert.equal((await page.locator('h1.headline span.kind-label').textContent()).trim(), 'Opinion:');
      const ld = await page.locator('script[type="application/ld+json"]').allTextContents();
      const types = ld.map((j) => JSON.parse(j)['@type']);
      assert.ok(types.includes('OpinionNewsArticle'), `JSON-LD types: ${types}`);
      assert.ok(types.includes('BreadcrumbList'), `JSON-LD types: ${types}`);
      assert.match((await page.locator('p.timestamps').textContent()).trim(), TIMESTAMPS_RE);
    });
  });

  for (const [slug, label, zone, offset] of [
    ['south-asia', 'South Asia', 'IST', 330],
    ['east-africa', 'East Africa', 'EAT', 180],
  ]) {
    it(`edition switch: Global → ${label} shows the same article in ${zone}`, { timeout: 45_000 }, async () => {
      await withPage({}, async (page) => {
        await page.goto(server.url + P.article);
        const read = async () => ({
          updated: (await page.locator('p.timestamps time.updated').textContent()).trim(),
          created: (await page.locator('p.timestamps time.created').textContent()).trim(),
          iso: await page.locator('p.timestamps time.updated').getAttribute('datetime'),
        });
        const utc = await read();
        assert.match(utc.updated, / UTC$/);

        await page.locator('details.edition-switch > summary').click();
        assert.equal(await page.locator('details.edition-switch').evaluate((d) => d.open), true, 'details opens');
        const link = page.locator(`details.edition-switch a[data-edition="${label}"]`);
        await link.waitFor({ state: 'visible', timeout: 5_000 });
        await Promise.all([page.waitForURL(`**/${slug}${P.article}`, { timeout: 20_000 }), link.click()]);
        assert.equal(new URL(page.url()).pathname, `/${slug}${P.article}`);

        const local = await read();
        assert.match((await page.locator('p.timestamps').textContent()).trim(), TIMESTAMPS_RE);
        assert.ok(local.updated.endsWith(` ${zone}`), `updated time in ${zone}: ${local.updated}`);
        assert.ok(local.created.endsWith(` ${zone}`), `created time in ${zone}: ${local.created}`);
        assert.equal(local.iso, utc.iso, 'same instant in the datetime attribute');
        assert.equal(parseStamp(local.updated).wall - parseStamp(utc.updated).wall, offset, 'updated clock offset');
        assert.equal(parseStamp(local.created).wall - parseStamp(utc.created).wall, offset, 'created clock offset');
        assert.match(await page.locator('header .dateline').innerText(), new RegExp(`${label} edition \\(`));
        assert.equal(
          await page.locator(`details.edition-switch a[data-edition="${label}"]`).getAttribute('aria-current'),
          'page',
        );
      });
    });
  }

  it('no console errors, page errors or failed subresources', { timeout: 90_000 }, async () => {
    const pages = [
      ['home', '/'],
      ['article', P.article],
      ['edition-home', '/east-africa'],
      ['sector-listing', '/sector/health'],
      ['static-page', '/about'],
      ['not-found', '/no-such-page-for-tests'],
    ];
    const problems = [];
    await withPage({}, async (page) => {
      let current = '';
      let docUrl = '';
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const loc = m.location()?.url ?? '';
        // A 404 page's own document status is reported as a console error: expected.
        if (/^Failed to load resource/.test(m.text()) && loc === docUrl) return;
        problems.push(`${current}: console error: ${m.text()} (${loc})`);
      });
      page.on('pageerror', (e) => problems.push(`${current}: page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`${current}: request failed: ${r.url()} ${r.failure()?.errorText}`));
      page.on('response', (r) => {
        if (r.url() !== docUrl && r.status() >= 400) problems.push(`${current}: ${r.status()} for ${r.url()}`);
      });
      for (const [name, p] of pages) {
        current = `${name} ${p}`;
        docUrl = server.url + p;
        const res = await page.goto(docUrl, { waitUntil: 'load' });
        assert.equal(res.status(), name === 'not-found' ? 404 : 200, `${p} status`);
        // Let lazy images and late scripts report.
        await scrollThrough(page);
        for (const src of await brokenImages(page)) problems.push(`${current}: broken image ${src}`);
      }
    });
    assert.deepEqual(problems, []);
  });

  it('screenshots: article, home, mobile article', { timeout: 60_000 }, async () => {
    await withPage({}, async (page) => {
      for (const [file, p] of [['article.png', P.article], ['home.png', '/']]) {
        await page.goto(server.url + p, { waitUntil: 'load' });
        await scrollThrough(page);
        await page.screenshot({ path: path.join(ARTIFACTS, file), fullPage: true, timeout: 30_000 });
      }
    });
    await withPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }, async (page) => {
      await page.goto(server.url + P.article, { waitUntil: 'load' });
      await scrollThrough(page);
      // Nothing wider than the phone's screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      await page.screenshot({ path: path.join(ARTIFACTS, 'article-mobile.png'), fullPage: true, timeout: 30_000 });
      assert.ok(overflow <= 1, `mobile article scrolls sideways by ${overflow}px`);
    });
  });

  describe('axe-core: no serious or critical violations', () => {
    for (const [name, pathFn] of [
      ['home', () => '/'],
      ['edition-home', () => '/south-asia'],
      ['article', () => P.article],
      ['opinion-article', () => P.opinion],
      ['sector-listing', () => '/sector/health'],
      ['kind-listing', () => '/kind/opinion'],
      ['tag-listing', () => P.tag],
      ['author-listing', () => P.author],
      ['desk-listing', () => P.desk],
      ['archive', () => P.archive],
      ['static-page', () => '/about'],
      ['not-found', () => '/no-such-page-for-tests'],
    ]) {
      it(name, { timeout: 45_000 }, async () => {
        const p = pathFn();
        // The site's CSP is script-src 'self': axe is injected with the CSP bypassed, for this run only.
        await withPage({ bypassCSP: true }, async (page) => {
          await page.goto(server.url + p, { waitUntil: 'load' });
          await page.addScriptTag({ path: AXE_PATH });
          const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
          const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
          const describeV = (v) =>
            `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
            v.nodes
              .slice(0, 10)
              .map((n) => `    ${n.target.join(' ')}\n      ${n.html.slice(0, 200)}\n      ${(n.failureSummary || '').replace(/\n/g, ' ')}`)
              .join('\n');
          if (result.violations.length) {
            console.log(`axe on ${p}:\n${result.violations.map(describeV).join('\n')}`);
          }
          assert.equal(bad.length, 0, `axe violations on ${p}:\n${bad.map(describeV).join('\n')}`);
        });
      });
    }
  });

  it('Nu HTML Checker: every page kind is valid HTML', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'newsdesk-vnu-'));
    try {
      const files = [];
      for (const [name, p] of pageKinds()) {
        const r = await http(p);
        assert.equal(r.status, name === 'not-found' ? 404 : 200, `${p} status`);
        assert.match(r.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/i, `${p} content-type`);
        const f = path.join(dir, `${name}.html`);
        writeFileSync(f, r.body);
        files.push(f);
      }
      const out = await new Promise((resolve, reject) => {
        const java = spawn('java', ['-jar', VNU_JAR, '--errors-only', '--format', 'json', ...files], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
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
      // vnu writes its JSON report to stderr.
      const report = JSON.parse(out.stderr.trim() || out.stdout.trim() || '{"messages":[]}');
      const errors = report.messages.filter((m) => m.type === 'error' || m.type === 'non-document-error');
      const lines = errors.map(
        (m) => `${path.basename(new URL(m.url).pathname)}:${m.lastLine ?? '?'}:${m.firstColumn ?? '?'} ${m.message}` +
          (m.extract ? `\n    ${m.extract.replace(/\n/g, '⏎')}` : ''),
      );
      assert.deepEqual(lines, [], `Nu HTML Checker errors (pages: ${pageKinds().map(([n, p]) => `${n}=${p}`).join(' ')})`);
      assert.equal(out.code, 0, `vnu exited ${out.code}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('bad input over HTTP', () => {
    it('unknown path: designed 404 page with the site footer', async () => {
      const r = await http('/no-such-page-for-tests');
      assert.equal(r.status, 404);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.ok(r.body.includes('<footer class="sitefoot"'), '404 page has the site footer');
      assert.ok(r.body.includes('<h2 id="f-sectors">SECTORS</h2>'), '404 page has the footer groups');
    });
    for (const [p, want] of [
      ['/article/%FF', 400],
      ['/sector/health?page=abc', 400],
      ['/sector/health?page=999999', 404],
      ['/atlantis/article/x', 404],
      ['/article/no-such-story-for-tests', 404],
      ['/sector/no-such-sector', 404],
      ['/south-asia/no-such-page', 404],
    ]) {
      it(`${p} → ${want}`, async () => {
        const r = await http(p);
        assert.notEqual(r.status, 500, `${p} is a server error`);
        assert.equal(r.status, want, `${p} answered ${r.status}`);
        assert.match(r.headers.get('content-type') ?? '', /^text\/html/, `${p} content-type`);
        assert.ok(r.body.includes('<footer class="sitefoot"'), `${p}: error page has the site footer`);
      });
    }
  });
});
