#!/usr/bin/env python3
"""Checks newsdesk's feeds and sitemaps with real parsers.

Feeds (RSS 2.0 and Atom through `feedparser`, JSON Feed 1.1 against its required fields) for the
site, three editions, three sectors, two kinds and two tags: well-formed (bozo == 0), at least one
entry, each entry with id, link, title and published date; ids stable between two fetches and
across a server restart over the same data dir. Sitemaps (index, pages, stories-N, news) parse
with xml.etree.ElementTree; every story URL answers 200. The demo's embargoed, scheduled and draft
stories ("EMBARGOED: …", "SCHEDULED: …", "DRAFT: …") appear in no feed and no sitemap, and their
pages are 404.

Server: if NEWSDESK_BASE (or --base URL) is given, that running server is checked (no restart
check). Otherwise NEWSDESK_BIN is started as `serve --demo` on a fresh data dir and a free port.

Ends with a line `N passed, M failed` (`, K skipped` when some checks could not run) and exits
non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import feedparser

EDITIONS = ["south-asia", "east-africa", "north-america"]
SECTORS = ["health", "education", "agro-forestry"]
KINDS = ["opinion", "news"]
HIDDEN_PREFIXES = ("EMBARGOED:", "SCHEDULED:", "DRAFT:")
HIDDEN_SLUG_PREFIXES = ("embargoed-", "scheduled-", "draft-")
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS_NS = "{http://www.google.com/schemas/sitemap-news/0.9}"
FEED_TYPES = {
    "feed.rss": "application/rss+xml",
    "feed.atom": "application/atom+xml",
    "feed.json": "application/feed+json",
}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class Results:
    def __init__(self) -> None:
        self.passed = 0
        self.failed = 0
        self.skipped = 0

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def skip(self, name: str, why: str) -> None:
        self.skipped += 1
        print(f"SKIP {name}: {why}", flush=True)


R = Results()


# --------------------------------------------------------------------------------------------
# Server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A newsdesk process serving `data_dir` on 127.0.0.1."""

    def __init__(self, binary: str, data_dir: str, port: int | None = None, timeout: float = 120.0):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
        env["NEWSDESK_SITE__BASE_URL"] = self.base
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [binary, "serve", "--demo", "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        ready = threading.Event()
        found: list[str] = []

        def pump() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.append(line)
                del self.log[:-400]
                m = re.search(r"newsdesk is serving (http://\S+?)/? \(data in", line)
                if m and not found:
                    found.append(m.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.2):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"newsdesk did not start within {timeout:.0f} s:\n{''.join(self.log[-40:])}")
        if not found:
            code = self.proc.wait(10)
            raise RuntimeError(f"newsdesk exited (code {code}) before serving:\n{''.join(self.log[-40:])}")
        self.url = found[0].rstrip("/")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# --------------------------------------------------------------------------------------------
# HTTP


def get(url: str, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"User-Agent": "newsdesk-feed-check/1 (bot)"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


# --------------------------------------------------------------------------------------------
# Feeds


def feed_paths(base: str) -> list[str]:
    """Listing paths whose feeds are checked ("" is the site)."""
    paths = [""] + [f"/{e}" for e in EDITIONS] + [f"/sector/{s}" for s in SECTORS] + [f"/kind/{k}" for k in KINDS]
    tags: list[str] = []
    status, _, body = get(base + "/feed.json")
    if status == 200:
        for item in json.loads(body).get("items", [])[:30]:
            s, _, html = get(base + path_of(item.get("url", "/")))
            for t in re.findall(r'href="(/tag/[^"/]+)"', html.decode("utf-8", "replace")):
                if t not in tags:
                    tags.append(t)
            if len(tags) >= 2:
                break
    R.check("two tags found from article pages", len(tags) >= 2, f"found {tags}")
    return paths + tags[:2]


def check_json_feed(name: str, body: bytes) -> list[dict]:
    """Validates JSON Feed 1.1 structure; returns entries as {id, link, title, published}."""
    try:
        doc = json.loads(body)
    except ValueError as e:
        R.check(f"{name} is JSON", False, str(e))
        return []
    R.check(f"{name} version", doc.get("version") == "https://jsonfeed.org/version/1.1", repr(doc.get("version")))
    R.check(f"{name} title", isinstance(doc.get("title"), str) and doc["title"] != "", repr(doc.get("title")))
    for key in ("home_page_url", "feed_url"):
        if key in doc:
            R.check(f"{name} {key} is a URL", isinstance(doc[key], str) and doc[key].startswith("http"), repr(doc[key]))
    items = doc.get("items")
    if not R.check(f"{name} items is a list", isinstance(items, list), type(items).__name__):
        return []
    out = []
    problems = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            problems.append(f"item {i} is not an object")
            continue
        if not isinstance(it.get("id"), str) or not it["id"]:
            problems.append(f"item {i} id {it.get('id')!r}")
        if not (isinstance(it.get("content_html"), str) or isinstance(it.get("content_text"), str)):
            problems.append(f"item {i} has neither content_html nor content_text")
        for key in ("date_published", "date_modified"):
            if key in it and not (isinstance(it[key], str) and RFC3339.match(it[key])):
                problems.append(f"item {i} {key} {it[key]!r} is not RFC 3339")
        for a in it.get("authors", []):
            if not isinstance(a, dict) or not any(k in a for k in ("name", "url", "avatar")):
                problems.append(f"item {i} author {a!r}")
        if "tags" in it and not (isinstance(it["tags"], list) and all(isinstance(t, str) for t in it["tags"])):
            problems.append(f"item {i} tags {it['tags']!r}")
        out.append(
            {"id": it.get("id"), "link": it.get("url"), "title": it.get("title"), "published": it.get("date_published")}
        )
    R.check(f"{name} items follow JSON Feed 1.1", not problems, "; ".join(problems[:10]))
    return out


def fetch_feed(base: str, listing: str, fmt: str) -> tuple[str, list[dict], str]:
    """Fetches and parses one feed; returns (name, entries, raw text)."""
    name = f"{listing or ''}/{fmt}"
    status, headers, body = get(f"{base}{listing}/{fmt}")
    if not R.check(f"{name} answers 200", status == 200, f"got {status}"):
        return name, [], ""
    ctype = headers.get("content-type", "")
    R.check(f"{name} content-type", ctype.startswith(FEED_TYPES[fmt]), ctype)
    raw = body.decode("utf-8", "replace")
    if fmt == "feed.json":
        entries = check_json_feed(name, body)
    else:
        d = feedparser.parse(body)
        R.check(f"{name} well-formed (bozo == 0)", d.bozo == 0, repr(d.get("bozo_exception")))
        want = "rss20" if fmt == "feed.rss" else "atom10"
        R.check(f"{name} is {want}", d.version == want, repr(d.version))
        entries = [
            {"id": e.get("id"), "link": e.get("link"), "title": e.get("title"), "published": e.get("published")}
            for e in d.entries
        ]
    R.check(f"{name} has entries", len(entries) >= 1, "no entries")
    missing = [
        f"{e.get('link') or e.get('id')}: no {k}" for e in entries for k in ("id", "link", "title", "published") if not e.get(k)
    ]
    R.check(f"{name} entries have id/link/title/published", not missing, "; ".join(missing[:10]))
    hidden = [e["title"] for e in entries if (e.get("title") or "").startswith(HIDDEN_PREFIXES)]
    hidden += [p for p in HIDDEN_PREFIXES if p in raw and p not in str(hidden)]
    hidden += [e["link"] for e in entries if path_of(e.get("link") or "").split("/")[-1].startswith(HIDDEN_SLUG_PREFIXES)]
    R.check(f"{name} has no embargoed/scheduled/draft story", not hidden, "; ".join(map(str, hidden)))
    return name, entries, raw


def feed_ids(base: str, paths: list[str]) -> dict[str, dict[str, str]]:
    """{feed name: {link path: id}} for every feed in every format, checking each on the way."""
    out = {}
    print(f"feeds: {len(paths)} listings x 3 formats on {base}: {', '.join(p or '/' for p in paths)}", flush=True)
    for listing in paths:
        for fmt in FEED_TYPES:
            name, entries, _ = fetch_feed(base, listing, fmt)
            out[name] = {path_of(e["link"] or ""): e["id"] for e in entries}
    return out


def compare_ids(what: str, a: dict[str, dict[str, str]], b: dict[str, dict[str, str]]) -> None:
    for name in a:
        x, y = a[name], b.get(name, {})
        diff = [f"{p}: {x.get(p)!r} vs {y.get(p)!r}" for p in sorted(set(x) | set(y)) if x.get(p) != y.get(p)]
        R.check(f"{name} ids stable {what}", not diff, f"{len(diff)} differ: " + "; ".join(diff[:5]))


def ids_consistent_across_formats(ids: dict[str, dict[str, str]]) -> None:
    """The same story has the same id in RSS, Atom and JSON Feed."""
    by_listing: dict[str, list[dict[str, str]]] = {}
    for name, m in ids.items():
        by_listing.setdefault(name.rsplit("/", 1)[0], []).append(m)
    for listing, maps in by_listing.items():
        merged: dict[str, set[str]] = {}
        for m in maps:
            for p, i in m.items():
                merged.setdefault(p, set()).add(i)
        bad = {p: s for p, s in merged.items() if len(s) > 1}
        R.check(f"{listing or '/'} same id in RSS, Atom and JSON", not bad, str(list(bad.items())[:3]))


# --------------------------------------------------------------------------------------------
# Sitemaps


def parse_xml(name: str, body: bytes):
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        R.check(f"{name} is well-formed XML", False, str(e))
        return None
    R.check(f"{name} is well-formed XML", True)
    return root


def check_sitemaps(base: str) -> None:
    status, headers, body = get(base + "/sitemap.xml")
    R.check("/sitemap.xml answers 200", status == 200, f"got {status}")
    R.check("/sitemap.xml content-type is XML", "xml" in headers.get("content-type", ""), headers.get("content-type", ""))
    root = parse_xml("/sitemap.xml", body)
    if root is None:
        return
    R.check("/sitemap.xml is a sitemapindex", root.tag == SITEMAP_NS + "sitemapindex", root.tag)
    children = [path_of(loc.text or "") for loc in root.iter(SITEMAP_NS + "loc")]
    R.check("sitemap index lists pages.xml", "/sitemaps/pages.xml" in children, str(children))
    stories = [c for c in children if re.fullmatch(r"/sitemaps/stories-\d+\.xml", c)]
    R.check("sitemap index lists stories-N.xml", len(stories) >= 1, str(children))
    R.check(
        "sitemap index locs are absolute on this server",
        all((loc.text or "").startswith(base + "/") for loc in root.iter(SITEMAP_NS + "loc")),
        base,
    )

    page_urls: list[str] = []
    story_urls: list[str] = []
    for child in children:
        s, _, b = get(base + child)
        if not R.check(f"{child} answers 200", s == 200, f"got {s}"):
            continue
        r = parse_xml(child, b)
        if r is None:
            continue
        R.check(f"{child} is a urlset", r.tag == SITEMAP_NS + "urlset", r.tag)
        locs = [loc.text or "" for loc in r.iter(SITEMAP_NS + "loc")]
        R.check(f"{child} has URLs", len(locs) >= 1, "empty")
        if child in stories:
            story_urls += locs
        else:
            page_urls += locs

    not_articles = [u for u in story_urls if not re.fullmatch(re.escape(base) + r"/article/[^/?#]+", u)]
    R.check("story sitemap locs are article URLs", not not_articles, "; ".join(not_articles[:5]))
    hidden = [u for u in story_urls + page_urls if path_of(u).split("/")[-1].startswith(HIDDEN_SLUG_PREFIXES)]
    R.check("no embargoed/scheduled/draft slug in sitemaps", not hidden, "; ".join(hidden))
    R.check("story sitemaps list no URL twice", len(set(story_urls)) == len(story_urls), "duplicates")

    def status_of(u: str) -> tuple[str, int]:
        return u, get(u)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(status_of, story_urls + page_urls))
    print(f"sitemaps: {len(story_urls)} story URLs in {len(stories)} file(s), {len(page_urls)} page URLs", flush=True)
    bad = [f"{u} → {s}" for u, s in results if s != 200]
    R.check(f"all {len(results)} sitemap URLs answer 200", not bad, f"{len(bad)} bad: " + "; ".join(bad[:10]))

    # Google News sitemap.
    s, headers, b = get(base + "/sitemap-news.xml")
    R.check("/sitemap-news.xml answers 200", s == 200, f"got {s}")
    r = parse_xml("/sitemap-news.xml", b)
    if r is not None:
        urls = r.findall(SITEMAP_NS + "url")
        R.check("news sitemap has URLs", len(urls) >= 1, "empty")
        probs = []
        titles = []
        for u in urls:
            loc = (u.findtext(SITEMAP_NS + "loc") or "").strip()
            title = (u.findtext(f"{NEWS_NS}news/{NEWS_NS}title") or "").strip()
            date = (u.findtext(f"{NEWS_NS}news/{NEWS_NS}publication_date") or "").strip()
            name = (u.findtext(f"{NEWS_NS}news/{NEWS_NS}publication/{NEWS_NS}name") or "").strip()
            titles.append(title)
            if not re.fullmatch(re.escape(base) + r"/article/[^/?#]+", loc):
                probs.append(f"loc {loc!r}")
            if not title or not name or not RFC3339.match(date):
                probs.append(f"{loc}: title {title!r} name {name!r} date {date!r}")
        R.check("news sitemap entries have loc, name, title, date", not probs, "; ".join(probs[:5]))
        hidden = [t for t in titles if t.startswith(HIDDEN_PREFIXES)]
        hidden += [p for p in HIDDEN_PREFIXES if p in b.decode("utf-8", "replace") and p not in str(hidden)]
        R.check("no embargoed/scheduled/draft headline in the news sitemap", not hidden, "; ".join(hidden))
        with ThreadPoolExecutor(max_workers=4) as pool:
            res = list(pool.map(status_of, [(u.findtext(SITEMAP_NS + "loc") or "").strip() for u in urls]))
        bad = [f"{u} → {s}" for u, s in res if s != 200]
        R.check("news sitemap URLs answer 200", not bad, "; ".join(bad[:10]))

    s, _, b = get(base + "/robots.txt")
    text = b.decode("utf-8", "replace")
    R.check("/robots.txt answers 200", s == 200, f"got {s}")
    R.check("robots.txt names the sitemaps", f"Sitemap: {base}/sitemap.xml" in text and f"Sitemap: {base}/sitemap-news.xml" in text, text)


def check_hidden_pages(base: str, data_dir: str | None) -> None:
    """The hidden demo stories' own pages are 404 (slugs read from the database, read-only)."""
    if not data_dir:
        R.skip("hidden story pages are 404", "no data dir (running server given); slugs unknown")
        return
    db = os.path.join(data_dir, "newsdesk.db")
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        rows = con.execute(
            "SELECT slug, headline FROM stories WHERE headline LIKE 'EMBARGOED:%' "
            "OR headline LIKE 'SCHEDULED:%' OR headline LIKE 'DRAFT:%'"
        ).fetchall()
        con.close()
    except sqlite3.Error as e:
        R.skip("hidden story pages are 404", f"cannot read slugs from {db}: {e}")
        return
    R.check("the demo has an embargoed, a scheduled and a draft story", len(rows) == 3, str(rows))
    print(f"hidden stories checked: {', '.join(slug for slug, _ in rows)}", flush=True)
    for slug, headline in rows:
        for prefix in ("", "/south-asia", "/north-america"):
            s, _, _ = get(f"{base}{prefix}/article/{urllib.parse.quote(slug)}")
            R.check(f"{prefix}/article/{slug} ({headline[:10]}…) is 404", s == 404, f"got {s}")
    # And not on the home page either.
    s, _, b = get(base + "/")
    home = b.decode("utf-8", "replace")
    leaked = [h for _, h in rows if h in home] + [sl for sl, _ in rows if sl in home]
    R.check("no hidden story on the home page", not leaked, "; ".join(leaked))


# --------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default=os.environ.get("NEWSDESK_BASE"), help="URL of a running server")
    ap.add_argument("--bin", default=os.environ.get("NEWSDESK_BIN"), help="newsdesk binary to start")
    args = ap.parse_args()

    started = time.monotonic()
    server = None
    data_dir = None
    try:
        if args.base:
            base = args.base.rstrip("/")
        else:
            if not args.bin:
                print("Set NEWSDESK_BASE to a running server, or NEWSDESK_BIN to the newsdesk binary "
                      "(e.g. NEWSDESK_BIN=target/release/newsdesk).", file=sys.stderr)
                print("0 passed, 1 failed")
                return 2
            binary = os.path.abspath(args.bin)
            if not os.path.exists(binary):
                print(f"NEWSDESK_BIN={args.bin} does not exist", file=sys.stderr)
                print("0 passed, 1 failed")
                return 2
            data_dir = tempfile.mkdtemp(prefix="newsdesk-feeds-")
            server = Server(binary, data_dir)
            base = server.url
        print(f"checking {base}", flush=True)

        paths = feed_paths(base)
        first = feed_ids(base, paths)
        ids_consistent_across_formats(first)
        second = feed_ids(base, paths)
        compare_ids("between two fetches", first, second)
        check_sitemaps(base)
        check_hidden_pages(base, data_dir)

        if server is not None:
            port = server.port
            server.stop()
            R.check("server stops on SIGTERM", server.proc.returncode is not None, "still running")
            try:
                server = Server(binary, data_dir, port=port)
            except RuntimeError:
                server = Server(binary, data_dir)  # the old port was taken meanwhile
            third = feed_ids(server.url, paths)
            compare_ids("across a restart", first, third)
            check_hidden_pages(server.url, data_dir)
        else:
            R.skip("ids stable across a restart", "running server given")
    except Exception as e:  # noqa: BLE001 - any crash is one failure, reported plainly
        R.check("checker ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        if server is not None:
            server.stop()
        if data_dir:
            shutil.rmtree(data_dir, ignore_errors=True)

    print(f"feeds and sitemaps checked in {time.monotonic() - started:.1f} s", flush=True)
    line = f"{R.passed} passed, {R.failed} failed"
    if R.skipped:
        line += f", {R.skipped} skipped"
    print(line, flush=True)
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
