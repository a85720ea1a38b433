"""The SEO score means what it says: it falls with broken pages and server errors (not only with failed
page checks), its explanation says what each finding costs, and suggested titles name the brand once."""

from __future__ import annotations

import pytest

from agentledger.agents.crawl import Crawl, Page
from agentledger.agents.seo_checks import audit, suggested_meta, suggested_title

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing

SITE = "https://shop.example"
BRAND = "Northwind Outfitters"


def good(path: str, title: str) -> Page:
    return Page(f"{SITE}{path}", status=200, content_type="text/html", ms=120, bytes=20_000,
                title=f"{title} | {BRAND}", meta_description="A description that is long enough to show in full, "
                f"written for {title}.", h1=[title], canonical=f"{SITE}{path}")


def shop(*extra: Page) -> Crawl:
    pages = [good("/", "Home"), good("/about", "About us"), good("/contact", "Write to us"), *extra]
    return Crawl(f"{SITE}/", pages=pages)


def test_broken_pages_and_server_errors_lower_the_score_and_say_what_they_cost():
    clean = audit(shop())
    assert clean.score == 100 and clean.explanation().startswith("Score 100 = 100 (nothing to take off).")
    broken = audit(shop(Page(f"{SITE}/gone", status=404), Page(f"{SITE}/old", status=410)))
    assert broken.score == 95
    assert broken.explanation().startswith("Score 95 = 100 − 5 for 2 broken pages (2.5 each).")
    erring = audit(shop(Page(f"{SITE}/gone", status=404), Page(f"{SITE}/boom", status=500),
                        Page(f"{SITE}/loop", error="redirect loop: more than 5 redirects")))
    assert erring.score == 90
    assert "− 2.5 for 1 broken page (2.5 each) − 5 for 1 server error (5 each) − 2.5 for 1 redirect loop" \
           " (2.5 each)" in erring.explanation()


def test_each_failed_page_check_costs_its_share_and_the_score_never_goes_below_zero():
    untitled = good("/summit-parka", "Summit parka")
    untitled.title = None
    one_missing = audit(shop(untitled))
    each = 100 / (4 * 7)  # 4 pages, 7 checks each
    assert one_missing.score == round(100 - each)
    assert "− 3.6 for 1 failed page check (3.6 each)" in one_missing.explanation()
    wrecked = audit(shop(*(Page(f"{SITE}/x{n}", status=500) for n in range(30))))
    assert wrecked.score == 0 and "(never below 0)" in wrecked.explanation()


@pytest.mark.parametrize(("h1", "path", "title"), [
    ("About Northwind Outfitters", "/about", "About | Northwind Outfitters"),
    ("Northwind Outfitters", "/", "Northwind Outfitters"),
    ("Welcome to Northwind Outfitters", "/", "Northwind Outfitters"),
    ("Northwind Outfitters Summit Down Parka", "/products/summit-down-parka",
     "Summit Down Parka | Northwind Outfitters"),
    (None, "/products/summit-down-parka", "Summit Down Parka | Northwind Outfitters"),
    ("Summit Down Parka", "/products/summit-down-parka", "Summit Down Parka | Northwind Outfitters"),
])
def test_suggested_titles_name_the_brand_once(h1, path, title):
    page = Page(f"{SITE}{path}", status=200, content_type="text/html", h1=[h1] if h1 else [])
    assert suggested_title(page, BRAND) == title
    assert suggested_meta(page, BRAND).count(BRAND) == 1
