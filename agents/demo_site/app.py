"""Northwind Outfitters, the demo shop the built-in agents audit: pages, feeds, robots.txt, traps.

Everything is the same on every start (see ``planted.py`` for what is wrong on purpose). Only fixes
pushed through the connector change it, and those can be kept in a state file across restarts.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from litestar import Litestar, Request, Response, get
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.response import Redirect
from litestar.types import Message, Scope

from agentledger.agents.demo_site import analytics, connector, images, pages, planted
from agentledger.agents.demo_site.catalog import CATEGORY_BY_SLUG, POST_BY_SLUG, PRODUCT_BY_SLUG, PRODUCTS
from agentledger.agents.demo_site.state import SiteState

DEV_TOKEN = "demo-connector-token"
ROBOTS = "User-agent: *\nDisallow: /admin/\nDisallow: /cart\n"
FEED_FIELDS = ("id", "slug", "name", "category", "price_cents", "color", "material", "features", "description",
               "meta_description", "url")


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _port(request: Request) -> int:
    return request.url.port or (443 if request.url.scheme == "https" else 80)


def _html(site: SiteState, request: Request, page: pages.Page, status: int = 200) -> Response:
    body = pages.render(site, page, base_url=_base_url(request), port=_port(request))
    return Response(body, status_code=status, media_type="text/html")


def _plain(path: str, title: str, heading: str, message: str, status: int = 200) -> Response:
    return Response(pages.plain(path, title, heading, message), status_code=status, media_type="text/html")


@get("/")
async def home(request: Request, site: SiteState) -> Response:
    return _html(site, request, pages.home())


@get(["/about", "/contact"])
async def text_page(request: Request, site: SiteState) -> Response:
    return _html(site, request, pages.text_page(request.url.path))


@get("/blog/")
async def blog_index(request: Request, site: SiteState) -> Response:
    return _html(site, request, pages.blog_index())


@get("/blog/{slug:str}")
async def post(slug: str, request: Request, site: SiteState) -> Response:
    if slug not in POST_BY_SLUG:
        raise NotFoundException()
    return _html(site, request, pages.post(slug))


@get("/category/{slug:str}")
async def category(slug: str, request: Request, site: SiteState) -> Response:
    if slug not in CATEGORY_BY_SLUG:
        raise NotFoundException()
    return _html(site, request, pages.category(slug))


@get("/products/{slug:str}")
async def product(slug: str, request: Request, site: SiteState) -> Response:
    if slug not in PRODUCT_BY_SLUG:
        raise NotFoundException()
    path = f"/products/{slug}"
    if planted.on(path, "server_error"):
        return _plain(path, "Server error", "Something went wrong", "Please try again later.", status=500)
    if planted.on(path, "slow_page"):
        await asyncio.sleep(planted.SLOW_SECONDS)
    return _html(site, request, pages.product(site, slug))


@get("/lookbook")
async def lookbook(request: Request, site: SiteState) -> Response:
    return _html(site, request, pages.lookbook())


@get("/admin/")
async def admin() -> Response:
    return _plain("/admin/", "Staff sign-in", "Staff sign-in", "Staff accounts are managed by the store office.")


@get("/cart")
async def cart() -> Response:
    return _plain("/cart", "Your cart", "Your cart", "Your cart is empty.")


@get("/old-home")
async def old_home() -> Redirect:
    return Redirect("/", status_code=301)


@get(["/loop-a", "/loop-b"])
async def loop(request: Request) -> Redirect:
    return Redirect("/loop-b" if request.url.path == "/loop-a" else "/loop-a", status_code=302)


@get("/gone")
async def gone() -> Response:
    """Answers 410 on any host name: the planted 'external' link points here through localhost."""
    return Response("This page has been removed.", status_code=410, media_type="text/plain")


@get("/robots.txt")
async def robots() -> Response:
    return Response(ROBOTS, media_type="text/plain")


@get("/images/{group:str}/{name:str}")
async def image(group: str, name: str) -> Response:
    picture = images.svg(group, name.removesuffix(".svg")) if name.endswith(".svg") else None
    if picture is None:
        raise NotFoundException()
    return Response(picture, media_type="image/svg+xml", headers={"cache-control": "max-age=3600"})


def _feed(site: SiteState, request: Request) -> list[dict]:
    base = _base_url(request)
    return [{"id": p.id, "slug": p.slug, "name": p.name, "category": p.category, "price_cents": p.price_cents,
             "color": p.color, "material": p.material, "features": list(p.features),
             "description": pages.current(site, p.path, "description"),
             "meta_description": pages.current(site, p.path, "meta_description") or "", "url": base + p.path}
            for p in PRODUCTS]


@get("/feeds/catalog.json")
async def catalog_json(request: Request, site: SiteState) -> Response:
    return Response({"products": _feed(site, request)})


@get("/feeds/catalog.csv")
async def catalog_csv(request: Request, site: SiteState) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, FEED_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({**row, "features": "; ".join(row["features"])} for row in _feed(site, request))
    return Response(buffer.getvalue(), media_type="text/csv")


@get("/feeds/analytics.csv")
async def analytics_csv() -> Response:
    return Response(analytics.analytics_csv(), media_type="text/csv")


@get("/feeds/analytics-broken.csv")
async def analytics_broken_csv() -> Response:
    return Response(analytics.broken_csv(), media_type="text/csv")


def _not_found(request: Request, _: Exception) -> Response:
    if request.url.path.startswith(("/api/", "/_demo/", "/feeds/")):
        return Response({"error": "not found"}, status_code=404)
    return _plain(request.url.path, "Page not found", "Page not found",
                  "We could not find that page. It may have moved or sold out.", status=404)


def create_app(token: str = DEV_TOKEN, state_file: str | Path | None = None) -> Litestar:
    site = SiteState(Path(state_file) if state_file else None)

    async def count_hit(message: Message, scope: Scope) -> None:
        """Count every request, matched route or not, for the robots.txt checks."""
        path = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")  # as sent: "/admin/"
        if message["type"] == "http.response.start" and not path.startswith("/_demo/"):
            site.hits[path] += 1

    app = Litestar(
        route_handlers=[home, text_page, blog_index, post, category, product, lookbook, admin, cart, old_home,
                        loop, gone, robots, image, catalog_json, catalog_csv, analytics_csv, analytics_broken_csv,
                        *connector.HANDLERS],
        dependencies={"site": Provide(lambda: site, sync_to_thread=False),
                      "token": Provide(lambda: token, sync_to_thread=False)},
        exception_handlers={NotFoundException: _not_found},
        before_send=[count_hit],
        openapi_config=None,
    )
    app.state.site = site
    return app
