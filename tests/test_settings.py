"""Settings come from the environment; a missing or malformed required one stops start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from agentledger.platform.config import Settings

pytestmark = pytest.mark.pure  # no database, no Redis of the tests: the clean fixture empties nothing


def run_cli(env_changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()}
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-m", "agentledger.platform.cli", "migrate"], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"DATABASE_URL": None}, "configuration error: DATABASE_URL is not set"),
        ({"REDIS_URL": None}, "configuration error: REDIS_URL is not set"),
        ({"SECRET_KEY": "short"}, "configuration error: SECRET_KEY is invalid"),
        ({"DATABASE_URL": "mysql://x"}, "configuration error: DATABASE_URL is invalid: Value error, must start with postgresql://"),
        ({"BASE_URL": "not a url"}, "configuration error: BASE_URL is invalid"),
        ({"SMTP_PORT": "twenty-five"}, "configuration error: SMTP_PORT is invalid"),
        ({"CREDIT_PACKS": "starter:1000"}, "configuration error: CREDIT_PACKS is invalid: Value error, 'starter:1000' "
                                           "is not id:credits:price"),
        ({"CREDIT_PACKS": "a:1:2,a:3:4"}, "configuration error: CREDIT_PACKS is invalid: Value error, pack 'a' is "
                                          "listed twice"),
        ({"CREDIT_PACKS": "free:100:0"}, "configuration error: CREDIT_PACKS is invalid"),
        ({"BILLING_CURRENCY": "US dollars"}, "configuration error: BILLING_CURRENCY is invalid"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line_naming_them(change, expected):
    result = run_cli(change)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)


def test_settings_are_typed():
    settings = Settings(database_url="postgresql://u@h/db", redis_url="redis://h:6379/0", secret_key="x" * 32,
                        base_url="https://app.example.com/", smtp_port="2525")
    assert settings.smtp_port == 2525
    assert settings.secure_cookies and settings.public_url == "https://app.example.com"
    assert not settings.oidc_enabled
