"""Test set-up: real PostgreSQL and Redis (started by ``./run test``), a fresh database per test run
(and per xdist worker), and a clean state for every test (tables emptied, Redis db flushed:
tests/support/state.py), except where a marker says otherwise (see ``clean``)."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

# Must run before anything imports agentledger settings: point this process at its own database.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_number = int(_worker.removeprefix("gw") or 0)
_admin_url = os.environ.get("TEST_ADMIN_DATABASE_URL") or os.environ["DATABASE_URL"]
TEST_DB = f"agentledger_test_{_worker}"
os.environ["TEST_ADMIN_DATABASE_URL"] = _admin_url
os.environ["DATABASE_URL"] = urlunsplit(urlsplit(_admin_url)._replace(path=f"/{TEST_DB}"))
_redis = urlsplit(os.environ["REDIS_URL"])
os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{1 + _worker_number}"))
os.environ.setdefault("SECRET_KEY", "test-secret-key-that-is-long-enough-0123456789")
os.environ.setdefault("BASE_URL", "http://127.0.0.1:8000")
os.environ.setdefault("AGENT_ALLOW_PRIVATE_NETWORKS", "true")
if os.environ.get("S3_ENDPOINT_URL"):  # one bucket per xdist worker on the run's moto server
    os.environ["S3_BUCKET"] = f"agentledger-test-{_worker}"

import httpx  # noqa: E402
import pytest  # noqa: E402
import redis as sync_redis  # noqa: E402

from agentledger.platform.config import get_settings  # noqa: E402
from agentledger.platform.database import close_pool, start_pool  # noqa: E402
from agentledger.platform.devstack import ensure_database  # noqa: E402
from tests.support.factories import Factory  # noqa: E402
from tests.support.state import truncate_all  # noqa: E402

pytest_plugins = ["tests.support.fixtures", "tests.support.demo_site", "tests.support.stripe"]


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Still argon2id through the same code, with the smallest cost parameters: tests create many
    accounts, and the real cost (about 50 ms a hash) is for attackers, not for CI."""
    from argon2 import PasswordHasher
    from argon2.profiles import CHEAPEST

    from agentledger.platform import security

    original = security._hasher
    security._hasher = PasswordHasher.from_parameters(CHEAPEST)
    yield
    security._hasher = original


@pytest.fixture(scope="session", autouse=True)
async def database(request):
    if all(item.get_closest_marker("pure") for item in request.session.items):
        yield  # only pure tests chose: no database, so one that reaches for it fails
        return
    await ensure_database(_admin_url, TEST_DB, fresh=True)
    from agentledger.platform.migrate import migrate

    await migrate()
    await start_pool()
    if os.environ.get("S3_ENDPOINT_URL"):
        from agentledger.platform import storage

        await asyncio.to_thread(storage.ensure_bucket)
    yield
    await close_pool()


@pytest.fixture(scope="session")
async def session_loop():
    """For synchronous tests that drive async code themselves (hypothesis state machines)."""
    return asyncio.get_running_loop()


@pytest.fixture(autouse=True)
def clean(request):
    """Every test starts on empty tables and an empty Redis db, except two kinds that say so:
    ``pytest.mark.pure`` (touches neither: nothing to empty) and ``pytest.mark.own_state`` (the module
    keeps a world of its own and puts it back itself, see tests/support/snapshot.py)."""
    if not (request.node.get_closest_marker("pure") or request.node.get_closest_marker("own_state")):
        request.getfixturevalue("empty_state")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
async def empty_state(database):
    await truncate_all()
    client = sync_redis.Redis.from_url(os.environ["REDIS_URL"])
    client.flushdb()
    client.close()


@pytest.fixture
async def app():
    from agentledger.web.app import create_app

    return create_app()


@pytest.fixture
async def client(app):
    """The real app over ASGI in the test's own event loop (the session fixture owns the pool)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.fixture
def factory() -> Factory:
    return Factory()


@pytest.fixture
def mailbox(override_settings):
    """A real SMTP server (aiosmtpd on 127.0.0.1) the app sends to: what it received, message by message.
    A module that needs other settings with it defines a ``mailbox`` of its own."""
    from tests.support.smtp import smtp_server

    with smtp_server() as (inbox, port):
        override_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_STARTTLS="false",
                          MAIL_FROM="agentledger <robot@example.com>")
        yield inbox


@pytest.fixture(scope="module")
def live_url():
    """The real web app served by uvicorn on a free port, one per test module that asks for it."""
    from tests.support.processes import web_server

    with web_server() as url:
        yield url
