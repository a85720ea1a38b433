"""A polite crawler for the site agents: breadth-first from a start URL, one origin, robots.txt obeyed,
a few requests at a time, each with a timeout and a size cap, and a record of every page it fetched.

What a page holds (title, meta description, headings, canonical, images, links) is read with
selectolax (lexbor). Failures are facts about a page (status, timeout, redirect loop), never errors
of the crawl: the agents turn them into failed items.
"""

from __future__ import annotations

import asyncio
import time
import urllib.robotparser
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser

from agentledger.agents import net
from agentledger.agents.sdk import AgentError
from agentledger.platform.validation import origin

USER_AGENT = "agentledger-crawler/1 (+https://github.com/agentledger)"
MAX_PAGE_BYTES = 2 * 1024 * 1024
MAX_ROBOTS_BYTES = 500 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(slots=True)
class Link:
    url: str
    text: str
    internal: bool


@dataclass(slots=True)
class Page:
    url: str
    status: int | None = None
    final_url: str | None = None
    content_type: str = ""
    ms: int = 0
    bytes: int = 0
    truncated: bool = False
    error: str | None = None
    redirects: list[str] = field(default_factory=list)
    title: str | None = None
    meta_description: str | None = None
    h1: list[str] = field(default_factory=list)
    canonical: str | None = None
    images: list[dict[str, str | None]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    words: int = 0
    first_paragraph: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and self.status < 400

    @property
    def is_html(self) -> bool:
        return any(t in self.content_type for t in HTML_TYPES)

    @property
    def problem(self) -> str | None:
        """Why the page failed to load, in words, or None."""
        if self.error:
            return self.error
        if self.status is not None and self.status >= 400:
            return f"HTTP {self.status}"
        return None


@dataclass(slots=True)
class Crawl:
    start_url: str
    pages: list[Page] = field(default_factory=list)  # every internal URL fetched, in order, HTML or not
    disallowed: list[str] = field(default_factory=list)  # internal URLs robots.txt keeps us from
    not_visited: list[str] = field(default_factory=list)  # found after the page limit was reached
    linked_from: dict[str, set[str]] = field(default_factory=dict)  # url -> pages linking to it

    def require_start_page(self) -> None:
        """Nothing to audit when the start URL itself does not load as HTML: the run fails and is refunded."""
        first = self.pages[0] if self.pages else None
        if first is None or first.problem:
            raise AgentError(f"the start URL {self.start_url} could not be loaded: "
                             f"{first.problem if first else 'no answer'}")
        if not first.is_html:
            raise AgentError(f"the start URL {self.start_url} is {first.content_type or 'not declared'}, "
                             "not an HTML page")


def _clean(url: str) -> str:
    return urldefrag(url)[0]


def _text(node) -> str:
    return " ".join(node.text(separator=" ").split()) if node is not None else ""


def parse_html(page: Page, html: str) -> None:
    """Fill in what the page says about itself."""
    tree = LexborHTMLParser(html)
    title = tree.css_first("head title") or tree.css_first("title")
    page.title = _text(title) if title is not None else None
    meta = tree.css_first('meta[name="description" i]')
    page.meta_description = (meta.attributes.get("content") or "").strip() if meta is not None else None
    page.h1 = [_text(h) for h in tree.css("h1")]
    canonical = tree.css_first('link[rel="canonical" i]')
    page.canonical = urljoin(page.final_url or page.url, canonical.attributes.get("href") or "") if canonical else None
    base = page.final_url or page.url
    page.images = [{"src": urljoin(base, img.attributes.get("src") or ""), "alt": img.attributes.get("alt")}
                   for img in tree.css("img")]
    site = origin(base)
    seen: set[str] = set()
    for a in tree.css("a[href]"):
        href = (a.attributes.get("href") or "").strip()
        if not href or href.startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        url = _clean(urljoin(base, href))
        if urlsplit(url).scheme not in ("http", "https") or url in seen:
            continue
        seen.add(url)
        page.links.append(Link(url, _text(a)[:200], origin(url) == site))
    body = tree.body
    page.words = len(_text(body).split()) if body is not None else 0
    page.first_paragraph = next((t for t in (_text(p) for p in tree.css("main p, article p, p")) if len(t.split()) >= 8),
                                "")


async def fetch(client: httpx.AsyncClient, url: str, *, read_body: bool = True) -> tuple[Page, str]:
    """One GET: status, timing, redirects, type and up to MAX_PAGE_BYTES of the body (HTML only)."""
    page = Page(url)
    started = time.perf_counter()
    body = bytearray()
    try:
        async with client.stream("GET", url) as response:
            page.status = response.status_code
            page.final_url = str(response.url)
            page.redirects = [str(r.url) for r in response.history]
            page.content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if read_body and page.is_html:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_PAGE_BYTES:
                        page.truncated = True
                        break
            page.bytes = len(body) if page.truncated or body else int(response.headers.get("content-length") or 0)
    except httpx.TooManyRedirects:
        page.error = "redirect loop: more than 5 redirects"
    except httpx.TimeoutException:
        page.error = "timed out"
    except httpx.HTTPError as error:
        page.error = f"{type(error).__name__}: {error}"[:300] or type(error).__name__
    page.ms = round((time.perf_counter() - started) * 1000)
    return page, body.decode("utf-8", errors="replace")


def client(timeout: float) -> httpx.AsyncClient:
    return net.client(timeout=timeout, follow_redirects=True, max_redirects=5, headers={"user-agent": USER_AGENT})


async def robots_for(http: httpx.AsyncClient, start_url: str) -> urllib.robotparser.RobotFileParser:
    """The site's robots.txt; none, or an unreadable one, allows everything."""
    robots = urllib.robotparser.RobotFileParser()
    page = Page(f"{origin(start_url)}/robots.txt")
    body = bytearray()
    try:
        async with http.stream("GET", page.url) as response:
            if response.status_code == 200:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_ROBOTS_BYTES:  # what Google reads of one, too
                        break
    except httpx.HTTPError:
        body.clear()
    robots.parse(body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace").splitlines())
    return robots


async def crawl(start_url: str, *, max_pages: int, concurrency: int = 4, timeout: float = 10.0,
                on_page: Callable[[Page], Awaitable[None] | None] | None = None) -> Crawl:
    """Fetch up to ``max_pages`` internal pages breadth-first (non-HTML resources are checked, not parsed)."""
    result = Crawl(_clean(start_url))
    site = origin(start_url)
    queue: list[str] = [result.start_url]
    seen = {result.start_url}
    limit = asyncio.Semaphore(concurrency)
    async with client(timeout) as http:
        robots = await robots_for(http, start_url)

        async def visit(url: str) -> None:
            async with limit:
                page, html = await fetch(http, url)
            final = _clean(page.final_url or url)
            if page.redirects and final != url:  # the target is a page of its own (crawled once)
                found = [Link(final, "", origin(final) == site)]
            else:
                if page.ok and page.is_html:
                    parse_html(page, html)
                found = page.links
            result.pages.append(page)
            for link in found:
                if link in page.links:
                    result.linked_from.setdefault(link.url, set()).add(url)
                if link.internal and link.url not in seen:
                    seen.add(link.url)
                    if not robots.can_fetch(USER_AGENT, link.url):
                        result.disallowed.append(link.url)
                    else:
                        queue.append(link.url)
            if on_page is not None:
                outcome = on_page(page)
                if outcome is not None:
                    await outcome

        while queue:
            room = max_pages - len(result.pages)
            if room <= 0:
                result.not_visited = queue
                break
            batch, queue = queue[:room], queue[room:]
            await asyncio.gather(*(visit(url) for url in batch))
    return result
