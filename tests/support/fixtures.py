"""Shared fixtures: a signed-in browser-like client, settings overrides, live processes."""

from __future__ import annotations

import os

import pytest

from agentledger.platform.config import get_settings
from tests.support.factories import csrf_from


@pytest.fixture
def override_settings(monkeypatch):
    """Change settings for one test: ``override_settings(BASE_URL="https://…")``."""

    def apply(**values: str) -> None:
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    return apply


async def sign_in(client, email: str, password: str, next: str = "/"):
    page = await client.get("/login", follow_redirects=True)  # signed in already: any page has the token
    token = csrf_from(page.text)
    return await client.post("/login", data={"email": email, "password": password, "next": next,
                                             "_csrf_token": token})


@pytest.fixture
def env() -> dict[str, str]:
    return dict(os.environ)
