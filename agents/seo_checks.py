"""The SEO rules, as pure functions over a crawl: each finding names its check, the page, and either a
concrete change (a recommendation the connector can apply: title, meta description) or work for a
person (an action item: headings, alt text, canonical tags, broken links, speed, weight)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from agentledger.agents.crawl import Crawl, Page

TITLE_RANGE = (10, 60)
META_RANGE = (50, 160)
SLOW_MS = 1000
HEAVY_BYTES = 1024 * 1024
PAGE_CHECKS = ("title", "meta description", "one H1", "alt text", "canonical", "speed", "weight")


@dataclass(slots=True)
class Finding:
    check: str
    url: str
    title: str
    detail: str
    priority: str = "medium"
    field: str | None = None  # set for a change the connector can make
    before: str | None = None
    after: str | None = None


# What a site-wide problem costs the score, in points off 100 (a failed page check costs 100 / checks).
SITE_COSTS = {"broken_page": 2.5, "server_error": 5.0, "redirect_loop": 2.5, "not_loaded": 2.5, "redirect": 0.5}
SITE_NAMES = {"broken_page": ("broken page", "broken pages"), "server_error": ("server error", "server errors"),
              "redirect_loop": ("redirect loop", "redirect loops"),
              "not_loaded": ("page that did not load", "pages that did not load"),
              "redirect": ("redirected link", "redirected links")}


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points off 100: ``count`` findings of one sort at ``each`` points."""

    name: str  # in words, plural when count != 1
    count: int
    each: float

    @property
    def points(self) -> float:
        return self.count * self.each


def _points(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


@dataclass(slots=True)
class Audit:
    """The score starts at 100 and each finding costs points: a failed page check 100 / (pages x checks),
    so a site failing every check scores 0 whatever its size; broken pages, server errors and pages
    that did not load cost a fixed amount each (``SITE_COSTS``), since every link to them is broken."""

    findings: list[Finding] = field(default_factory=list)
    passed: int = 0
    total: int = 0
    site_problems: Counter[str] = field(default_factory=Counter)  # SITE_COSTS keys

    def deductions(self) -> list[Deduction]:
        out = []
        failed = max(0, self.total - self.passed)
        if failed:
            out.append(Deduction(f"failed page check{'s' if failed != 1 else ''}", failed, 100 / self.total))
        for key, each in SITE_COSTS.items():
            if n := self.site_problems[key]:
                out.append(Deduction(SITE_NAMES[key][n != 1], n, each))
        return out

    @property
    def score(self) -> int:
        if not self.total:
            return 0
        return max(0, round(100 - sum(d.points for d in self.deductions())))

    def explanation(self) -> str:
        """'Score 71 = 100 − 19.4 for 58 failed page checks (0.33 each) − 5 for 2 broken pages (2.5 each) …'"""
        if not self.total:
            return "No page could be checked, so the score is 0."
        parts = [f"− {_points(d.points)} for {d.count} {d.name} ({_points(d.each, 2 if d.each < 1 else 1)} each)"
                 for d in self.deductions()]
        floor = " (never below 0)" if 100 - sum(d.points for d in self.deductions()) < 0 else ""
        return (f"Score {self.score} = 100 {' '.join(parts) or '(nothing to take off)'}{floor}. "
                f"{self.passed} of {self.total} page checks pass ({', '.join(PAGE_CHECKS)}, and unique titles and "
                f"descriptions) across {self.total // len(PAGE_CHECKS)} pages; 100 means every check passes and "
                f"every page loads.")

    def by_check(self) -> Counter[str]:
        return Counter(f.check for f in self.findings)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


SEPARATOR = re.compile(r"\s[|·—–-]\s")


def site_name(crawl: Crawl) -> str:
    """The site's name: the title suffix most pages share ("… | Name"), else the first part of the home
    page's title, else the host."""
    suffixes = Counter(SEPARATOR.split(p.title)[-1].strip() for p in crawl.pages if p.title and SEPARATOR.search(p.title))
    if suffixes and suffixes.most_common(1)[0][1] >= 2:
        return suffixes.most_common(1)[0][0]
    home = next((p for p in crawl.pages if p.url == crawl.start_url and p.title), None)
    if home and home.title:
        return SEPARATOR.split(home.title)[0].strip()
    return urlsplit(crawl.start_url).hostname or "the site"


def _words(text: str) -> str:
    return " ".join(w.capitalize() if w.islower() else w for w in re.split(r"[-_/]+", text) if w)


_JOINS = re.compile(r"^(?:[\s|·—–:,-]|(?:at|by|from|of|to|the|welcome)\b)+"  # what joined the name to the rest
                    r"|(?:[\s|·—–:,-]|\b(?:at|by|from|of|to|the))+$", re.IGNORECASE)


def without_brand(topic: str, site: str) -> str:
    """The topic with the site's name taken out ("About Northwind Outfitters" -> "About"), so a title
    does not name the brand twice; what is left of only joining words is nothing."""
    if not site or site.lower() not in topic.lower():
        return topic
    rest = re.sub(re.escape(site), " ", topic, flags=re.IGNORECASE)
    return _JOINS.sub("", " ".join(rest.split())).strip()


def suggested_title(page: Page, site: str) -> str:
    """A unique, descriptive title: the page's heading (or its path in words) and the site's name once:
    "About | Northwind Outfitters", the home page's own heading alone when it is just the name."""
    topic = page.h1[0] if page.h1 else _words(urlsplit(page.url).path.strip("/").rsplit("/", 1)[-1]) or "Home"
    topic = without_brand(" ".join(topic.split()), site)
    if not topic:
        return site[: TITLE_RANGE[1]]
    title = f"{topic} | {site}"
    return title if len(title) <= TITLE_RANGE[1] else topic[: TITLE_RANGE[1]].rsplit(" ", 1)[0]


def suggested_meta(page: Page, site: str) -> str:
    """The page's own first paragraph, cut at a word within the length search engines show."""
    topic = without_brand(page.h1[0] if page.h1 else (page.title or site), site) or site
    text = page.first_paragraph or (f"{topic} at {site}: details, prices and advice from our team." if topic != site
                                    else f"{site}: details, prices and advice from our team.")
    if len(text) <= META_RANGE[1] - 5:
        return text
    return text[: META_RANGE[1] - 5].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def _duplicates(pages: list[Page], attribute: str) -> dict[str, list[Page]]:
    groups: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        value = getattr(page, attribute)
        if value:
            groups[value.strip().lower()].append(page)
    return {value: group for value, group in groups.items() if len(group) > 1}


def _page_checks(page: Page, site: str, audit: Audit) -> None:
    add = audit.findings.append
    passed = 0
    if not page.title:
        add(Finding("missing_title", page.url, f"Add a title to {path_of(page.url)}", "The page has no <title>.",
                    "high", "title", page.title, suggested_title(page, site)))
    elif not TITLE_RANGE[0] <= len(page.title) <= TITLE_RANGE[1] + 10:
        add(Finding("title_length", page.url, f"Resize the title of {path_of(page.url)}",
                    f"The title has {len(page.title)} characters; {TITLE_RANGE[0]}–{TITLE_RANGE[1]} show in full.",
                    "low", "title", page.title, suggested_title(page, site)))
    else:
        passed += 1
    if not page.meta_description:
        add(Finding("missing_meta_description", page.url, f"Add a meta description to {path_of(page.url)}",
                    "Search engines show this under the title; without it they pick text themselves.", "high",
                    "meta_description", page.meta_description, suggested_meta(page, site)))
    else:
        passed += 1
    if len(page.h1) != 1:
        check = "missing_h1" if not page.h1 else "multiple_h1"
        detail = "The page has no <h1>." if not page.h1 else f"The page has {len(page.h1)} <h1> elements: " + \
            "; ".join(page.h1[:3])
        add(Finding(check, page.url, f"Give {path_of(page.url)} exactly one H1", detail))
    else:
        passed += 1
    missing_alt = [img["src"] for img in page.images if not (img["alt"] or "").strip()]
    if missing_alt:
        images = f"{len(missing_alt)} image{'s' if len(missing_alt) != 1 else ''}"
        add(Finding("missing_alt", page.url, f"Describe {images} on {path_of(page.url)}",
                    "Images without alt text: " + ", ".join(path_of(src) for src in missing_alt[:10])))
    else:
        passed += 1
    if not page.canonical:
        add(Finding("missing_canonical", page.url, f"Add a canonical link to {path_of(page.url)}",
                    'Without <link rel="canonical"> duplicates of this page compete with it.', "low"))
    else:
        passed += 1
    if page.ms > SLOW_MS:
        add(Finding("slow_page", page.url, f"Speed up {path_of(page.url)}",
                    f"The page took {page.ms} ms to load (aim for under {SLOW_MS} ms)."))
    else:
        passed += 1
    if page.bytes > HEAVY_BYTES or page.truncated:
        size = f"more than {page.bytes / 1048576:.1f} MB (reading stopped there)" if page.truncated else \
            f"{page.bytes / 1048576:.1f} MB"
        add(Finding("heavy_page", page.url, f"Reduce the weight of {path_of(page.url)}",
                    f"The HTML is {size}; keep pages under 1 MB.", "high"))
    else:
        passed += 1
    audit.passed += passed
    audit.total += len(PAGE_CHECKS)


def audit(crawl: Crawl) -> Audit:
    """Every rule over every page that loaded, plus the site-wide ones (duplicates, broken and redirected links)."""
    result = Audit()
    site = site_name(crawl)
    loaded = [p for p in crawl.pages if p.ok and p.is_html and not p.redirects]
    for page in loaded:
        _page_checks(page, site, result)
    for check, attribute, field_name, suggest in (("duplicate_title", "title", "title", suggested_title),
                                                  ("duplicate_meta_description", "meta_description",
                                                   "meta_description", suggested_meta)):
        for group in _duplicates(loaded, attribute).values():
            for page in group:
                others = ", ".join(path_of(p.url) for p in group if p is not page)
                result.findings.append(Finding(
                    check, page.url, f"Make the {field_name.replace('_', ' ')} of {path_of(page.url)} unique",
                    f"Shared with {others}.", "medium", field_name, getattr(page, attribute), suggest(page, site)))
                result.passed -= 1  # the page passed its own check; the duplicate takes the point back
    for page in crawl.pages:
        sources = ", ".join(sorted(path_of(u) for u in crawl.linked_from.get(page.url, ())))
        if page.problem:
            check = "redirect_loop" if "redirect loop" in page.problem else (
                "server_error" if page.status and page.status >= 500 else "broken_internal_link")
            result.findings.append(Finding(check, page.url, f"Fix {path_of(page.url)} ({page.problem})",
                                           f"Linked from {sources or 'the start URL'}.", "high"))
            result.site_problems[check if check != "broken_internal_link" else
                                 "broken_page" if page.status else "not_loaded"] += 1
        elif page.redirects:
            result.findings.append(Finding(
                "redirect", page.url, f"Link straight to {path_of(page.final_url or '')}",
                f"{path_of(page.url)} redirects to {path_of(page.final_url or '')}; linked from {sources}.", "low"))
            result.site_problems["redirect"] += 1
    return result
