"""The Litestar application: JSON API under /api/v1 (OpenAPI at /api/v1/schema), pages, static files."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from agentledger.platform import grant_cache, logs
from agentledger.platform.config import Settings, get_settings
from agentledger.platform.database import WEB, close_pool, start_pool
from agentledger.platform.redis import close_redis
from agentledger.web import auth, contract, errors
from agentledger.web.api import (
    billing,
    credits,
    events,
    executions,
    exports,
    health,
    notifications,
    people,
    results,
    retention,
    schedules,
    sharing,
)
from agentledger.web.middleware import (
    BearerAwareCSRFMiddleware,
    ExactAllowMiddleware,
    SecurityHeadersMiddleware,
    json_bodies_only,
    known_query_only,
)
from agentledger.web.pages.account import AccountPages
from agentledger.web.pages.auth import AuthPages, InvitationPages
from agentledger.web.pages.automation import AutomationPages
from agentledger.web.pages.billing import BillingPages
from agentledger.web.pages.credits import CreditsPages
from agentledger.web.pages.notifications import EmailPages, NotificationSettingsPages, UnsubscribePages
from agentledger.web.pages.retention import RetentionPages
from agentledger.web.pages.run_actions import RunActionPages
from agentledger.web.pages.run_start import RunStartPages
from agentledger.web.pages.runs import RunPages
from agentledger.web.pages.sharing import LinkPages, SharePages
from agentledger.web.pages.workspace import HomePages, WorkspacePages
from agentledger.web.sessions import session_config
from agentledger.web.text_guard import text_without_nul

HERE = Path(__file__).parent
MAX_BODY = 1024 * 1024


def _csrf(settings: Settings) -> CSRFConfig:
    secure = settings.secure_cookies
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="__Host-csrftoken" if secure else "csrftoken",
        cookie_secure=secure,
        cookie_httponly=True,  # pages embed the token; scripts never read the cookie
        cookie_samesite="lax",
        exclude=["/healthz", "/readyz", "/webhooks/stripe",  # Stripe signs its deliveries instead
                 "^/unsubscribe/"],  # RFC 8058: a mail client posts it with no cookie; the signed token is the permission
    )


def _form_targets(settings: Settings) -> str:
    """Forms that redirect to another site, which CSP's form-action must allow (browsers hold a form's
    redirects to it too): signing in with OIDC goes to the provider, buying credits to Stripe's checkout
    (devstripe's own origin when STRIPE_API_BASE points at it)."""
    targets = [settings.oidc_issuer or ""] if settings.oidc_enabled else []
    targets.append(settings.stripe_api_base or "https://checkout.stripe.com")
    return "".join(f" {p.scheme}://{p.netloc}" for p in map(urlsplit, targets) if p.scheme and p.netloc)


def _openapi() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="agentledger API",
        version="1",
        path="/api/v1/schema",
        render_plugins=contract.render_plugins(),
        components=Components(security_schemes={
            "bearer": SecurityScheme(type="http", scheme="bearer", description="A personal API token (al_…)"),
        }),
        security=[{"bearer": []}],
    )


def create_app() -> Litestar:
    settings = get_settings()
    sessions = session_config(settings)

    stop_listening = asyncio.Event()
    background: set[asyncio.Task[None]] = set()

    async def on_startup() -> None:
        await start_pool(application=WEB)
        background.add(asyncio.create_task(grant_cache.listen(stop_listening)))
        # The app's own objects (routes, templates, schemas) live as long as the process: move them out of
        # the collector's sight, so a full collection scans only what requests left behind (a full scan of
        # everything took ~60 ms, a pause some request would wait out).
        gc.collect()
        gc.freeze()

    async def on_shutdown() -> None:
        stop_listening.set()
        await asyncio.gather(*background, return_exceptions=True)
        await close_pool()
        await close_redis()

    logs.configure()
    app = Litestar(
        route_handlers=[
            health.healthz, health.readyz, *people.controllers, *executions.controllers, *billing.controllers, *credits.controllers, *results.controllers,
            *schedules.controllers, *exports.controllers, *events.controllers, *sharing.controllers,
            *notifications.controllers, *retention.controllers, NotificationSettingsPages, UnsubscribePages, EmailPages,
            AuthPages, InvitationPages, HomePages, WorkspacePages, RunPages, RunStartPages, RunActionPages,
            AutomationPages, BillingPages, CreditsPages, RetentionPages,
            SharePages, LinkPages, AccountPages,
            create_static_files_router(path="/static", directories=[HERE / "static"], include_in_schema=False),
        ],
        dependencies=auth.dependencies,
        # in this order: who, then what
        guards=[auth.api_caller_first, json_bodies_only, known_query_only, text_without_nul],
        middleware=[
            DefineMiddleware(SecurityHeadersMiddleware, form_targets=_form_targets(settings)),
            sessions.middleware,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=_csrf(settings), session_cookie=sessions.key),
            ExactAllowMiddleware,
        ],
        stores={"sessions": RedisStore.with_client(url=settings.redis_url, namespace="sessions")},
        template_config=TemplateConfig(directory=HERE / "templates", engine=JinjaTemplateEngine),
        plugins=[HTMXPlugin()],
        openapi_config=_openapi(),
        exception_handlers=errors.exception_handlers,
        request_max_body_size=MAX_BODY,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        logging_config=None,  # platform.logs configures logging for every process the same way
    )
    app.state.session_config = sessions
    return app
