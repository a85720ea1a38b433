"""Northwind Outfitters over real HTTP: crawlable, every planted problem really there (and no others),
feeds well formed, and the change API doing what the platform relies on.

Needs no database: run with ``--noconftest`` (see tests/support/demo_site.py for the subprocess).
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter, deque
from datetime import date, timedelta
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from agentledger.agents.demo_site import analytics
from agentledger.agents.demo_site.planted import ANALYTICS_PLANTED, DUPLICATE_TITLE, PLANTED
from tests.support.demo_site import DemoSite, demo_site

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing


@pytest.fixture(scope="module")
def site() -> DemoSite:
    with demo_site() as running_site:
        yield running_site


@pytest.fixture
def http(site):
    with httpx.Client(base_url=site.url, timeout=10) as client:
        assert client.post("/_demo/reset").status_code == 200
        yield client


def _crawl(site: DemoSite) -> dict[str, tuple[int, str]]:
    """BFS from / like a polite crawler: same host, robots.txt obeyed, redirects queued, not followed."""
    robots = RobotFileParser()
    robots.parse(httpx.get(site.url + "/robots.txt").text.splitlines())
    host = urlsplit(site.url).netloc
    seen, queue, pages = {"/"}, deque(["/"]), {}
    with httpx.Client(base_url=site.url, timeout=10) as client:
        while queue:
            path = queue.popleft()
            response = client.get(path)
            found = [response.headers["location"]] if response.is_redirect else []
            if response.headers.get("content-type", "").startswith("text/html"):
                pages[path] = (response.status_code, response.text)
                found += [a.attributes.get("href") or "" for a in HTMLParser(response.text).css("a")]
            for href in found:
                url = urlsplit(urljoin(site.url + path, href))
                if url.netloc == host and url.path not in seen and robots.can_fetch("*", url.geturl()):
                    seen.add(url.path)
                    queue.append(url.path)
    return pages


@pytest.fixture(scope="module")
def crawled(site) -> dict[str, tuple[int, str]]:
    httpx.post(site.url + "/_demo/reset")
    pages = _crawl(site)
    pages["hits"] = (0, str(httpx.get(site.url + "/_demo/hits").json()))
    return pages


def _ok_html(crawled) -> dict[str, HTMLParser]:
    return {path: HTMLParser(text) for path, (status, text) in crawled.items() if status == 200 and path != "hits"}


def _planted(kind: str) -> set[str]:
    return {e["path"] for e in PLANTED if e["kind"] == kind}


def test_a_polite_crawl_reaches_the_whole_shop_and_skips_disallowed_paths(crawled):
    html = _ok_html(crawled)
    assert len(html) >= 40
    assert {"/", "/about", "/contact", "/blog/", "/lookbook", "/category/camping", "/products/wool-beanie"} <= set(html)
    assert sum(p.startswith("/products/") for p in html) == 29  # 30 products, one answers 500
    assert crawled["/products/frostline-winter-boot"][0] == 500
    hits = crawled["hits"][1]
    assert "'/admin/'" not in hits and "'/cart'" not in hits and "/admin/" not in html


def test_only_the_planted_pages_have_head_and_heading_problems(crawled):
    html = _ok_html(crawled)
    html.pop("/admin/", None), html.pop("/cart", None)

    def head(tree, selector, attr=None):
        node = tree.css_first(selector)
        return None if node is None else (node.attributes.get(attr) if attr else node.text()).strip() or None

    titles = {p: head(t, "title") for p, t in html.items()}
    metas = {p: head(t, 'meta[name="description"]', "content") for p, t in html.items()}
    assert {p for p, t in titles.items() if t is None} == _planted("missing_title")
    assert {p for p, t in titles.items() if t == DUPLICATE_TITLE} == _planted("duplicate_title")
    repeated_titles = {t for t, n in Counter(t for t in titles.values() if t).items() if n > 1}
    assert repeated_titles == {DUPLICATE_TITLE}
    assert {p for p, m in metas.items() if m is None} == _planted("missing_meta_description")
    repeated = {m for m, n in Counter(m for m in metas.values() if m).items() if n > 1}
    assert {p for p, m in metas.items() if m in repeated} == _planted("duplicate_meta_description")
    assert len(repeated) == 1
    assert {p for p, t in html.items() if not t.css("h1")} == _planted("missing_h1")
    assert {p for p, t in html.items() if len(t.css("h1")) > 1} == _planted("multiple_h1")
    assert {p for p, t in html.items() if not t.css('link[rel="canonical"]')} == _planted("missing_canonical")
    no_alt = {(p, img.attributes["src"]) for p, t in html.items() for img in t.css("img") if "alt" not in img.attributes}
    assert no_alt == {(e["path"], e["image"]) for e in PLANTED if e["kind"] == "missing_alt"}
    canonical = html["/about"].css_first('link[rel="canonical"]').attributes["href"]
    assert canonical.endswith("/about") and canonical.startswith("http://127.0.0.1:")


def _links(http, path: str) -> set[str]:
    return {a.attributes.get("href") for a in HTMLParser(http.get(path).text).css("a")}


LINK_KINDS = ("broken_internal_link", "broken_external_link", "redirect", "redirect_loop", "non_html_link")


@pytest.mark.parametrize("entry", [e for e in PLANTED if e["kind"] in LINK_KINDS], ids=lambda e: e["name"])
def test_planted_links_are_on_their_page_and_misbehave(http, site, entry):
    port = urlsplit(site.url).port
    target = entry["target"].format(port=port)
    assert target in _links(http, entry["path"])
    kind = entry["kind"]
    if kind == "broken_internal_link":
        assert http.get(target).status_code == 404
    elif kind == "broken_external_link":
        assert urlsplit(target).hostname != urlsplit(site.url).hostname
        try:
            assert httpx.get(target, timeout=5).status_code == 410
        except httpx.ConnectError:
            assert urlsplit(target).port == 1
    elif kind == "redirect":
        response = http.get(target)
        assert response.status_code == 301 and response.headers["location"] == "/"
    elif kind == "redirect_loop":
        with pytest.raises(httpx.TooManyRedirects):
            http.get(target, follow_redirects=True)
    else:
        assert http.get(target).headers["content-type"].startswith("application/json")


def test_slow_heavy_and_failing_pages(http):
    (slow,) = _planted("slow_page")
    started = time.monotonic()
    assert http.get(slow).status_code == 200
    assert time.monotonic() - started >= 1.4
    (heavy,) = _planted("heavy_page")
    assert heavy in _links(http, "/")
    assert len(http.get(heavy).content) >= 3_000_000
    (failing,) = _planted("server_error")
    assert http.get(failing).status_code == 500


def test_thin_products_have_short_copy_and_the_rest_do_not(http):
    products = http.get("/feeds/catalog.json").json()["products"]
    thin = {f"/products/{p['slug']}" for p in products if len(p["description"].split()) < 15}
    assert thin == _planted("thin_content")
    path = sorted(thin)[0]
    copy = next(p["description"] for p in products if p["url"].endswith(path))
    assert copy in http.get(path).text


def test_robots_disallows_linked_pages_that_answer_html(http):
    robots = http.get("/robots.txt").text
    assert robots.splitlines()[:3] == ["User-agent: *", "Disallow: /admin/", "Disallow: /cart"]
    for path in _planted("robots_disallowed"):
        assert path in _links(http, "/")
        response = http.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert http.get("/_demo/hits").json()["/admin/"] == 1


def test_catalog_feeds_agree_and_are_well_formed(http, site):
    products = http.get("/feeds/catalog.json").json()["products"]
    assert len(products) == 30 and len({p["id"] for p in products}) == 30
    fields = ["id", "slug", "name", "category", "price_cents", "color", "material", "features", "description",
              "meta_description", "url"]
    assert all(list(p) == fields for p in products)
    assert all(isinstance(p["price_cents"], int) and 2 <= len(p["features"]) <= 4 for p in products)
    assert products[0]["id"] == "P001" and products[0]["url"] == f"{site.url}/products/{products[0]['slug']}"
    rows = list(csv.DictReader(io.StringIO(http.get("/feeds/catalog.csv").text)))
    assert [r["id"] for r in rows] == [p["id"] for p in products]
    assert rows[0]["features"] == "; ".join(products[0]["features"]) and rows[0]["price_cents"].isdigit()


def test_analytics_has_90_integer_days_and_the_planted_anomalies(http):
    text = http.get("/feeds/analytics.csv").text
    assert text == analytics.analytics_csv()  # the subprocess made the same data as this process
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["date", "page", "visits", "orders", "revenue_cents"]
    data = [(date.fromisoformat(d), page, int(v), int(o), int(r)) for d, page, v, o, r in rows[1:]]
    days = sorted({d for d, *_ in data})
    assert len(days) == 90 and days[-1] == date(2026, 11, 15)
    assert days == [days[0] + timedelta(days=i) for i in range(90)]
    visits, orders = Counter(), Counter()
    for d, _, v, o, _ in data:
        visits[d] += v
        orders[d] += o
    planted = {e["kind"]: e for e in ANALYTICS_PLANTED}
    spike, drop = date.fromisoformat(planted["spike"]["date"]), date.fromisoformat(planted["drop"]["date"])
    assert visits[spike] > 3.5 * visits[spike - timedelta(days=7)]
    assert orders[drop] == 0 and 0.8 < visits[drop] / visits[drop - timedelta(days=7)] < 1.2
    assert all(orders[d] > 0 for d in days if d != drop)
    week = date.fromisoformat(planted["trend_up"]["date"])
    last = sum(visits[week + timedelta(days=i)] for i in range(7))
    before = sum(visits[week - timedelta(days=7 - i)] for i in range(7))
    assert 1.10 < last / before < 1.14
    for d in days:
        top = max((v, page) for day, page, v, _, _ in data if day == d)
        assert top[1] == planted["top_page"]["page"]


def test_broken_analytics_is_broken(http):
    rows = list(csv.reader(io.StringIO(http.get("/feeds/analytics-broken.csv").text)))[1:]
    assert any(len(r) < 5 for r in rows)
    assert any(len(r) == 5 and not r[2].isdigit() for r in rows)
    bad_dates = 0
    for r in rows:
        try:
            date.fromisoformat(r[0])
        except ValueError:
            bad_dates += 1
    assert bad_dates == 1


def test_connector_needs_the_token(http, site):
    for method, path in (("GET", "/api/changes"), ("POST", "/api/changes"), ("GET", "/api/pages?path=/about")):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = http.request(method, path, headers=headers, json={})
            assert response.status_code == 401 and "error" in response.json()
    assert http.get("/api/changes", headers=site.auth).json() == {"changes": []}


def _title(http, path: str) -> str | None:
    node = HTMLParser(http.get(path).text).css_first("title")
    return node.text() if node else None


def test_an_applied_change_shows_on_the_live_page(http, site):
    assert _title(http, "/about") is None
    response = http.post("/api/changes", headers=site.auth,
                         json={"target": "/about", "field": "title", "value": "About Northwind Outfitters"})
    assert response.status_code == 200
    assert response.json() == {"id": 1, "target": "/about", "path": "/about", "field": "title", "before": None,
                               "after": "About Northwind Outfitters"}
    assert _title(http, "/about") == "About Northwind Outfitters"
    page = http.get("/api/pages", params={"path": "/about"}, headers=site.auth).json()
    assert page["title"] == "About Northwind Outfitters" and page["meta_description"]
    assert [c["id"] for c in http.get("/api/changes", headers=site.auth).json()["changes"]] == [1]


def test_product_copy_changes_by_product_id_reach_page_and_feed(http, site):
    copy = "A soft merino beanie with a double-layer cuff over the ears, warm on cold mornings and itch-free all day."
    response = http.post("/api/changes", headers=site.auth, json={"target": "P026", "field": "description", "value": copy})
    assert response.status_code == 200 and response.json()["path"] == "/products/wool-beanie"
    assert response.json()["before"] == "A soft merino beanie for cold mornings."
    assert copy in http.get("/products/wool-beanie").text
    feed = http.get("/feeds/catalog.json").json()["products"]
    assert next(p for p in feed if p["id"] == "P026")["description"] == copy
    page = http.get("/api/pages", params={"path": "P026"}, headers=site.auth).json()
    assert page["description"] == copy


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"target": "/no-such-page", "field": "title", "value": "x"}, 404, "target"),
    ({"target": "P999", "field": "title", "value": "x"}, 404, "target"),
    ({"target": "/about", "field": "h1", "value": "x"}, 422, "field"),
    ({"target": "/about", "field": "title", "value": "   "}, 422, "value"),
    ({"target": "/about", "field": "title", "value": "x" * 121}, 422, "value"),
    ({"target": "/about", "field": "meta_description", "value": "x" * 321}, 422, "value"),
    ({"target": "P001", "field": "description", "value": "x" * 5001}, 422, "value"),
    ({"target": "/about", "field": "description", "value": "copy"}, 422, "field"),
    ({"field": "title", "value": "x"}, 422, "target"),
])
def test_bad_changes_are_refused_and_change_nothing(http, site, body, status, field):
    response = http.post("/api/changes", headers=site.auth, json=body)
    assert response.status_code == status
    assert response.json()["field"] == field and response.json()["error"]
    assert http.get("/api/changes", headers=site.auth).json() == {"changes": []}


def test_faults_can_be_injected_and_cleared(http, site):
    change = {"target": "/contact", "field": "title", "value": "Contact Northwind Outfitters"}
    for fault, status in (("500", 500), ("401", 401)):
        assert http.post("/_demo/faults", json={"connector": fault}).json() == {"connector": fault}
        assert http.post("/api/changes", headers=site.auth, json=change).status_code == status
    http.post("/_demo/faults", json={"connector": "timeout"})
    with pytest.raises(httpx.ReadTimeout):
        http.post("/api/changes", headers=site.auth, json=change, timeout=1.5)
    assert http.get("/api/changes", headers=site.auth).json() == {"changes": []}
    assert http.post("/_demo/faults", json={"connector": "later"}).status_code == 422
    http.post("/_demo/faults", json={"connector": None})
    assert http.post("/api/changes", headers=site.auth, json=change).status_code == 200


def test_a_retried_push_with_the_same_key_applies_once(http, site):
    change = {"target": "P001", "field": "meta_description", "value": "Waterproof three-layer rain jacket."}
    first = http.post("/api/changes", headers={**site.auth, "Idempotency-Key": "ex-1"}, json=change).json()
    again = http.post("/api/changes", headers={**site.auth, "Idempotency-Key": "ex-1"}, json=change).json()
    assert first == again
    assert len(http.get("/api/changes", headers=site.auth).json()["changes"]) == 1


def test_reset_restores_the_shop_as_shipped(http, site):
    http.post("/api/changes", headers=site.auth, json={"target": "/about", "field": "title", "value": "Fixed"})
    http.post("/_demo/faults", json={"connector": "500"})
    assert http.post("/_demo/reset").status_code == 200
    assert _title(http, "/about") is None
    assert http.get("/api/changes", headers=site.auth).json() == {"changes": []}
    assert http.get("/_demo/faults").json() == {"connector": None}


def test_a_state_file_keeps_applied_changes_across_restarts(tmp_path):
    state = tmp_path / "demo-state.json"
    change = {"target": "/category/camping", "field": "meta_description", "value": "Tents, sleeping bags and stoves."}
    with demo_site(token="t1", state_file=state) as first:
        assert httpx.post(first.url + "/api/changes", headers=first.auth, json=change).status_code == 200
    with demo_site(token="t2", state_file=state) as second:
        tree = HTMLParser(httpx.get(second.url + "/category/camping").text)
        assert tree.css_first('meta[name="description"]').attributes["content"] == change["value"]
        assert len(httpx.get(second.url + "/api/changes", headers=second.auth).json()["changes"]) == 1
