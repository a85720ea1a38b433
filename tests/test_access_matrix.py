"""Every route, called by four people: anonymous, an Acme member, an Acme admin, and Globex's admin.
An admin's run shared with the member shows what sharing grants: reading, not changing.

The API is called with each person's API token, pages with a signed-in session and the page's CSRF
token. Cross-workspace access answers 404. A route without a row here fails the completeness test.

The world is built once per module (and each person signs in once, in it); a GET must leave it exactly
as it was (checked after each one), and before any other method the world is put back from its snapshot
(tests/support/snapshot.py), so every case still meets the same fresh world.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import httpx
import pytest
import redis as sync_redis

from agentledger.agents import launch, runner, scheduling
from agentledger.notifications import preferences as notification_preferences
from agentledger.platform import invitations, tokens
from agentledger.platform.config import get_settings
from agentledger.platform.connectors import service as connectors
from agentledger.platform.database import atomic, fetch
from agentledger.platform.results.tables import ExecutionResult
from agentledger.platform.retention import archiver
from agentledger.platform.retention import repository as retention_repository
from agentledger.platform.retention import restore as restores
from agentledger.platform.scoping import resolve_scope
from agentledger.platform.sharing import links
from agentledger.platform.sharing import service as sharing
from tests.support import agents  # noqa: F401 - registers test-results
from tests.support.factories import Factory, csrf_from
from tests.support.fixtures import sign_in
from tests.support.snapshot import World
from tests.support.state import truncate_all
from tests.support.stripe import devstripe

pytestmark = pytest.mark.own_state  # the module keeps its world; see the docstring
CALLERS = ("anonymous", "member", "admin", "outsider")
RETENTION_FORM = {"completed_days": "400", "failed_days": "90", "files_days": "90", "downloads_days": "30",
                  "restore_grace_days": "7"}
LOGIN = "login"  # a 303 to the sign-in page


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # as Litestar names it
    url: str  # with {placeholders} filled from the world
    expect: tuple  # per caller, in CALLERS order
    body: dict | None = None
    page: bool = False  # page (session + CSRF form) or API (bearer token)
    stream: bool = False  # an endless response (SSE): called on a real server, only the status is read


CASES = [
    # members see their own runs only: an admin's run is not found for them
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}",
         "/api/v1/workspaces/acme/executions/{admin_run}", (401, 404, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/results",
         "/api/v1/workspaces/acme/executions/{admin_run}/results", (401, 404, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/export",
         "/api/v1/workspaces/acme/executions/{admin_run}/export?format=json", (401, 404, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/cancel",
         "/api/v1/workspaces/acme/executions/{admin_run}/cancel", (401, 404, 409, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/events",
         "/api/v1/workspaces/acme/executions/{admin_run}/events", (401, 404, 200, 404), stream=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}", "/w/acme/executions/{admin_run}",
         (LOGIN, 404, 200, 404), page=True),
    Case("GET", "/healthz", "/healthz", (200, 200, 200, 200)),
    Case("GET", "/readyz", "/readyz", (200, 200, 200, 200)),
    Case("GET", "/static/{file_path:path}", "/static/app.css", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema", "/api/v1/schema/openapi.json", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/openapi.json", "/api/v1/schema/openapi.json", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/swagger", "/api/v1/schema/swagger", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/redoc", "/api/v1/schema/redoc", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/openapi.yaml", "/api/v1/schema/openapi.yaml", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/{path:str}", "/api/v1/schema/no-such-doc", (404, 404, 404, 404)),
    Case("GET", "/api/v1/schema/openapi.yml", "/api/v1/schema/openapi.yml", (200, 200, 200, 200)),
    Case("GET", "/api/v1/schema/oauth2-redirect.html", "/api/v1/schema/oauth2-redirect.html", (200, 200, 200, 200)),
    Case("GET", "/api/v1/me", "/api/v1/me", (401, 200, 200, 200)),
    Case("POST", "/api/v1/workspaces", "/api/v1/workspaces", (401, 403, 403, 403), {"slug": "new", "name": "New"}),
    Case("GET", "/api/v1/workspaces/{ws:str}/members", "/api/v1/workspaces/acme/members", (401, 200, 200, 404)),
    Case("PATCH", "/api/v1/workspaces/{ws:str}/members/{user_id:uuid}", "/api/v1/workspaces/acme/members/{mia}",
         (401, 403, 200, 404), {"role": "admin"}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/members/{user_id:uuid}", "/api/v1/workspaces/acme/members/{mia}",
         (401, 403, 204, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/invitations", "/api/v1/workspaces/acme/invitations",
         (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/invitations", "/api/v1/workspaces/acme/invitations",
         (401, 403, 201, 404), {"email": "new@example.com"}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/invitations/{invitation_id:uuid}",
         "/api/v1/workspaces/acme/invitations/{invitation}", (401, 403, 204, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/tokens", "/api/v1/workspaces/acme/tokens", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/tokens", "/api/v1/workspaces/acme/tokens", (401, 201, 201, 404),
         {"name": "matrix"}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/tokens/{token_id:uuid}", "/api/v1/workspaces/acme/tokens/{mia_token}",
         (401, 404, 204, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/agents", "/api/v1/workspaces/acme/agents", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions", "/api/v1/workspaces/acme/executions",
         (401, 202, 202, 404), {"agent": "noop", "inputs": {}}),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions", "/api/v1/workspaces/acme/executions",
         (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/estimate", "/api/v1/workspaces/acme/executions/estimate",
         (401, 200, 200, 404), {"agent": "noop", "inputs": {}}),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}",
         "/api/v1/workspaces/acme/executions/{run}", (401, 200, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/code",
         "/api/v1/workspaces/acme/executions/{run}/code", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/cancel",
         "/api/v1/workspaces/acme/executions/{run}/cancel", (401, 200, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/export",
         "/api/v1/workspaces/acme/executions/{done_run}/export?format=json", (401, 200, 200, 404)),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}",
         "/api/v1/workspaces/acme/executions/{done_run}", (401, 204, 204, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/pause",
         "/api/v1/workspaces/acme/executions/{run}/pause", (401, 409, 409, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/resume",
         "/api/v1/workspaces/acme/executions/{run}/resume", (401, 409, 409, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/rerun",
         "/api/v1/workspaces/acme/executions/{run}/rerun", (401, 202, 202, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/resume-from-failed-step",
         "/api/v1/workspaces/acme/executions/{run}/resume-from-failed-step", (401, 409, 409, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/retry-failed-items",
         "/api/v1/workspaces/acme/executions/{run}/retry-failed-items", (401, 409, 409, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/continuation",
         "/api/v1/workspaces/acme/executions/{done_run}/continuation", (401, 409, 409, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/results",
         "/api/v1/workspaces/acme/executions/{done_run}/results", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/results/approve",
         "/api/v1/workspaces/acme/executions/{done_run}/results/approve", (401, 200, 200, 404),
         {"result_ids": ["{rec}"]}),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/results/reject",
         "/api/v1/workspaces/acme/executions/{done_run}/results/reject", (401, 200, 200, 404),
         {"result_ids": ["{rec}"]}),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/apply",
         "/api/v1/workspaces/acme/executions/{done_run}/apply", (401, 200, 200, 404), {"result_ids": ["{rec}"]}),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/review",
         "/api/v1/workspaces/acme/executions/{done_run}/review", (401, 409, 409, 404), {"decision": "approve"}),
    Case("GET", "/api/v1/workspaces/{ws:str}/results/{result_id:uuid}", "/api/v1/workspaces/acme/results/{rec}",
         (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/results/{result_id:uuid}/approve",
         "/api/v1/workspaces/acme/results/{rec}/approve", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/results/{result_id:uuid}/reject",
         "/api/v1/workspaces/acme/results/{rec}/reject", (401, 200, 200, 404)),
    Case("PATCH", "/api/v1/workspaces/{ws:str}/results/{result_id:uuid}", "/api/v1/workspaces/acme/results/{content}",
         (401, 200, 200, 404), {"text": "Edited copy."}),
    Case("GET", "/api/v1/workspaces/{ws:str}/results/{result_id:uuid}/download",
         "/api/v1/workspaces/acme/results/{artifact}/download", (401, 200, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/connectors", "/api/v1/workspaces/acme/connectors", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/connectors", "/api/v1/workspaces/acme/connectors",
         (401, 403, 201, 404), {"name": "Shop", "base_url": "http://127.0.0.1:9", "secret": "s3cret-token-longer"}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/connectors/{connector_id:uuid}",
         "/api/v1/workspaces/acme/connectors/{connector}", (401, 403, 204, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/schedules", "/api/v1/workspaces/acme/schedules", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/schedules", "/api/v1/workspaces/acme/schedules", (401, 201, 201, 404),
         {"name": "Nightly", "agent": "noop", "cron": "0 3 * * *"}),
    Case("GET", "/api/v1/workspaces/{ws:str}/schedules/{schedule_id:uuid}",
         "/api/v1/workspaces/acme/schedules/{schedule}", (401, 200, 200, 404)),
    Case("PATCH", "/api/v1/workspaces/{ws:str}/schedules/{schedule_id:uuid}",
         "/api/v1/workspaces/acme/schedules/{schedule}", (401, 200, 200, 404), {"enabled": False}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/schedules/{schedule_id:uuid}",
         "/api/v1/workspaces/acme/schedules/{schedule}", (401, 204, 204, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/schedules/{schedule_id:uuid}/run",
         "/api/v1/workspaces/acme/schedules/{schedule}/run", (401, 202, 202, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/events", "/api/v1/workspaces/acme/executions/events",
         (401, 200, 200, 404), stream=True),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/events",
         "/api/v1/workspaces/acme/executions/{run}/events", (401, 200, 200, 404), stream=True),
    Case("GET", "/api/v1/workspaces/{ws:str}/wallet", "/api/v1/workspaces/acme/wallet", (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/ledger", "/api/v1/workspaces/acme/ledger", (401, 403, 200, 404)),
    # buying credits: admins only; Stripe's webhook takes no credentials, only its signature
    Case("GET", "/api/v1/workspaces/{ws:str}/billing/packs", "/api/v1/workspaces/acme/billing/packs",
         (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/billing/checkout", "/api/v1/workspaces/acme/billing/checkout",
         (401, 403, 201, 404), {"pack": "starter"}),
    Case("GET", "/api/v1/workspaces/{ws:str}/billing/purchases", "/api/v1/workspaces/acme/billing/purchases",
         (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/billing/purchases/{purchase_id:uuid}",
         "/api/v1/workspaces/acme/billing/purchases/{purchase}", (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/billing/purchases/{purchase_id:uuid}/receipt.pdf",
         "/api/v1/workspaces/acme/billing/purchases/{purchase}/receipt.pdf", (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/billing/account", "/api/v1/workspaces/acme/billing/account",
         (401, 403, 200, 404)),
    Case("PUT", "/api/v1/workspaces/{ws:str}/billing/account", "/api/v1/workspaces/acme/billing/account",
         (401, 403, 200, 404), {"billing_name": "Acme Corp", "low_balance_threshold": 100}),
    # the credit audit: admins the workspace, members their own runs
    Case("GET", "/api/v1/workspaces/{ws:str}/credits/usage", "/api/v1/workspaces/acme/credits/usage?group_by=member",
         (401, 200, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/credits/export", "/api/v1/workspaces/acme/credits/export",
         (401, 200, 200, 404)),
    Case("GET", "/w/{ws:str}/credits", "/w/acme/credits", (LOGIN, 200, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/credits/charts/{what:str}", "/w/acme/credits/charts/member", (LOGIN, 422, 200, 404),
         page=True),
    Case("POST", "/webhooks/stripe", "/webhooks/stripe", (400, 400, 400, 400), {"id": "evt_forged"}),
    Case("GET", "/w/{ws:str}/billing", "/w/acme/billing", (LOGIN, 403, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/billing/checkout", "/w/acme/billing/checkout", (LOGIN, 403, 303, 404),
         {"pack": "starter", "attempt": "matrix"}, page=True),
    Case("POST", "/w/{ws:str}/billing/account", "/w/acme/billing/account", (LOGIN, 403, 303, 404),
         {"billing_name": "Acme Corp", "billing_address": "", "low_balance_threshold": "100"}, page=True),
    Case("GET", "/w/{ws:str}/billing/purchases/{purchase_id:uuid}", "/w/acme/billing/purchases/{purchase}",
         (LOGIN, 403, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/billing/purchases/{purchase_id:uuid}/receipt.pdf",
         "/w/acme/billing/purchases/{purchase}/receipt.pdf", (LOGIN, 403, 200, 404), page=True),
    # notifications: everyone their own preferences; the Emails page and previews for admins; the unsubscribe
    # link needs no login (its signed token is the permission)
    Case("GET", "/api/v1/me/notifications", "/api/v1/me/notifications", (401, 200, 200, 200)),
    Case("PUT", "/api/v1/me/notifications", "/api/v1/me/notifications", (401, 200, 200, 200),
         {"run_finished_minutes": 10}),
    Case("GET", "/api/v1/workspaces/{ws:str}/emails", "/api/v1/workspaces/acme/emails", (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/emails/{email_id:uuid}", "/api/v1/workspaces/acme/emails/{email}",
         (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/emails/{email_id:uuid}/resend",
         "/api/v1/workspaces/acme/emails/{email}/resend", (401, 403, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/settings", "/api/v1/workspaces/acme/settings", (401, 200, 200, 404)),
    Case("PUT", "/api/v1/workspaces/{ws:str}/settings", "/api/v1/workspaces/acme/settings", (401, 403, 200, 404),
         {"timezone": "Europe/Paris"}),
    Case("POST", "/w/{ws:str}/timezone", "/w/acme/timezone", (LOGIN, 403, 303, 404), {"timezone": "Europe/Paris"},
         page=True),
    # retention: admins set the policy, archive and decide; whoever sees an archived run may ask for it back
    Case("GET", "/api/v1/workspaces/{ws:str}/retention", "/api/v1/workspaces/acme/retention", (401, 403, 200, 404)),
    Case("PUT", "/api/v1/workspaces/{ws:str}/retention", "/api/v1/workspaces/acme/retention", (401, 403, 200, 404),
         {"completed_days": 400}),
    Case("POST", "/api/v1/workspaces/{ws:str}/retention/preview", "/api/v1/workspaces/acme/retention/preview",
         (401, 403, 200, 404), {"failed_days": 30}),
    Case("GET", "/api/v1/workspaces/{ws:str}/retention/requests", "/api/v1/workspaces/acme/retention/requests",
         (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/retention/requests/{request_id:uuid}/approve",
         "/api/v1/workspaces/acme/retention/requests/{restore_request}/approve", (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/retention/requests/{request_id:uuid}/reject",
         "/api/v1/workspaces/acme/retention/requests/{restore_request}/reject", (401, 403, 200, 404)),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/retention/alerts/{alert_id:uuid}",
         "/api/v1/workspaces/acme/retention/alerts/{alert}", (401, 403, 204, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/archive",
         "/api/v1/workspaces/acme/executions/{done_run}/archive", (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/restore",
         "/api/v1/workspaces/acme/executions/{archived_run}/restore", (401, 202, 202, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/restore",
         "/api/v1/workspaces/acme/executions/{archived_run}/restore", (401, 200, 200, 404)),
    Case("GET", "/w/{ws:str}/settings/retention", "/w/acme/settings/retention", (LOGIN, 403, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/settings/retention", "/w/acme/settings/retention", (LOGIN, 403, 303, 404),
         RETENTION_FORM, page=True),
    Case("POST", "/w/{ws:str}/settings/retention/preview", "/w/acme/settings/retention/preview",
         (LOGIN, 403, 200, 404), RETENTION_FORM, page=True),
    Case("POST", "/w/{ws:str}/settings/retention/requests/{request_id:uuid}/{decision:str}",
         "/w/acme/settings/retention/requests/{restore_request}/approve", (LOGIN, 403, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/settings/retention/alerts/{alert_id:uuid}/dismiss",
         "/w/acme/settings/retention/alerts/{alert}/dismiss", (LOGIN, 403, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/archive", "/w/acme/executions/{done_run}/archive",
         (LOGIN, 403, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/restore", "/w/acme/executions/{archived_run}/restore",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("GET", "/settings/notifications", "/settings/notifications", (LOGIN, 200, 200, 200), page=True),
    Case("POST", "/settings/notifications", "/settings/notifications", (LOGIN, 303, 303, 303),
         {"run_finished": "on", "run_finished_minutes": "7"}, page=True),
    Case("GET", "/unsubscribe/{token:str}", "/unsubscribe/{unsubscribe}", (200, 200, 200, 200), page=True),
    Case("POST", "/unsubscribe/{token:str}", "/unsubscribe/{unsubscribe}", (200, 200, 200, 200), page=True),
    Case("GET", "/w/{ws:str}/emails", "/w/acme/emails", (LOGIN, 403, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/emails/{email_id:uuid}", "/w/acme/emails/{email}", (LOGIN, 403, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/emails/{email_id:uuid}/body.html", "/w/acme/emails/{email}/body.html",
         (LOGIN, 403, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/emails/{email_id:uuid}/resend", "/w/acme/emails/{email}/resend",
         (LOGIN, 403, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/emails/previews", "/w/acme/emails/previews?template=weekly_digest",
         (LOGIN, 403, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/emails/previews/{template:str}/body.html", "/w/acme/emails/previews/low_balance/body.html",
         (LOGIN, 403, 200, 404), page=True),
    # sharing: the member's own run, and an admin's run shared with the member (read, not change)
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/sharing",
         "/api/v1/workspaces/acme/executions/{done_run}/sharing", (401, 200, 200, 404)),
    Case("PUT", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/shares/{user_id:uuid}",
         "/api/v1/workspaces/acme/executions/{done_run}/shares/{mia}", (401, 200, 200, 404)),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/shares/{user_id:uuid}",
         "/api/v1/workspaces/acme/executions/{shared_run}/shares/{member}", (401, 403, 204, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/links",
         "/api/v1/workspaces/acme/executions/{done_run}/links", (401, 201, 201, 404),
         {"password": "a long enough password", "expires_in_days": 7}),
    Case("DELETE", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/links/{link_id:uuid}",
         "/api/v1/workspaces/acme/executions/{done_run}/links/{link}", (401, 204, 204, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/links/{link_id:uuid}/unlock",
         "/api/v1/workspaces/acme/executions/{done_run}/links/{link}/unlock", (401, 200, 200, 404)),
    Case("GET", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}",
         "/api/v1/workspaces/acme/executions/{shared_run}", (401, 200, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/cancel",
         "/api/v1/workspaces/acme/executions/{shared_run}/cancel", (401, 403, 200, 404)),
    Case("POST", "/api/v1/workspaces/{ws:str}/executions/{execution_id:uuid}/links",
         "/api/v1/workspaces/acme/executions/{shared_run}/links", (401, 403, 201, 404),
         {"password": "a long enough password"}),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}", "/w/acme/executions/{shared_run}",
         (LOGIN, 200, 200, 404), page=True),
    # pages
    Case("GET", "/", "/", (LOGIN, 303, 303, 303), page=True),
    Case("GET", "/login", "/login", (200, 303, 303, 303), page=True),
    Case("POST", "/login", "/login", (401, 401, 401, 401), {"email": "nobody@example.com", "password": "wrong!"},
         page=True),
    Case("POST", "/logout", "/logout", (303, 303, 303, 303), {}, page=True),
    # one's own account; forgetting a password is open to anyone and answers the same for every email
    Case("GET", "/account", "/account", (LOGIN, 200, 200, 200), page=True),
    Case("POST", "/account/name", "/account/name", (LOGIN, 303, 303, 303), {"name": "Renamed"}, page=True),
    Case("POST", "/account/password", "/account/password", (LOGIN, 303, 303, 303),
         {"current_password": "a long enough password", "new_password": "a new long password",
          "confirm_password": "a new long password"}, page=True),
    Case("POST", "/account/sessions/end-others", "/account/sessions/end-others", (LOGIN, 303, 303, 303), {},
         page=True),
    Case("POST", "/account/sessions/{handle:str}/end", "/account/sessions/no-such-session/end",
         (LOGIN, 404, 404, 404), {}, page=True),
    Case("GET", "/forgot", "/forgot", (200, 200, 200, 200), page=True),
    Case("POST", "/forgot", "/forgot", (200, 200, 200, 200), {"email": "admin@acme.example"}, page=True),
    Case("GET", "/reset/{token:str}", "/reset/pwr_not-a-real-token", (404, 404, 404, 404), page=True),
    Case("POST", "/reset/{token:str}", "/reset/pwr_not-a-real-token", (404, 404, 404, 404),
         {"new_password": "a new long password", "confirm_password": "a new long password"}, page=True),
    Case("POST", "/auth/oidc/start", "/auth/oidc/start", (404, 404, 404, 404), {}, page=True),
    Case("GET", "/auth/oidc/callback", "/auth/oidc/callback?code=x&state=y", (404, 404, 404, 404), page=True),
    Case("GET", "/invitations/{token:str}", "/invitations/{invite_token}", (200, 200, 200, 200), page=True),
    Case("POST", "/invitations/{token:str}/accept", "/invitations/{invite_token}/accept", (LOGIN, 403, 403, 403), {},
         page=True),
    Case("POST", "/invitations/{token:str}/signup", "/invitations/{invite_token}/signup", (303, 303, 303, 303),
         {"name": "Ivy Invitee", "password": "a long enough password"}, page=True),
    Case("GET", "/workspaces", "/workspaces", (LOGIN, 200, 200, 200), page=True),
    Case("POST", "/workspaces", "/workspaces", (LOGIN, 303, 303, 303), {"slug": "fresh", "name": "Fresh"}, page=True),
    Case("GET", "/w/{ws:str}", "/w/acme", (303, 303, 303, 303), page=True),
    Case("GET", "/w/{ws:str}/executions", "/w/acme/executions", (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/executions", "/w/acme/executions", (LOGIN, 303, 303, 404),
         {"agent": "noop", "inputs": "{}", "scope": "", "mode": "live"}, page=True),
    Case("GET", "/w/{ws:str}/executions/new", "/w/acme/executions/new?agent=noop", (LOGIN, 200, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/executions/new/estimate", "/w/acme/executions/new/estimate?agent=noop&scope=2",
         (LOGIN, 200, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}", "/w/acme/executions/{done_run}",
         (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/cancel", "/w/acme/executions/{run}/cancel",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/pause", "/w/acme/executions/{run}/pause",
         (LOGIN, 409, 409, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/resume", "/w/acme/executions/{run}/resume",
         (LOGIN, 409, 409, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/continue",
         "/w/acme/executions/{done_run}/continue", (LOGIN, 409, 409, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/continue",
         "/w/acme/executions/{done_run}/continue", (LOGIN, 409, 409, 404),
         {"kind": "resume_from_failed_step", "confirmed_estimate": "2"}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/delete", "/w/acme/executions/{done_run}/delete",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/rerun", "/w/acme/executions/{done_run}/rerun",
         (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/rerun", "/w/acme/executions/{done_run}/rerun",
         (LOGIN, 303, 303, 404), {"agent": "test-results", "inputs": "{}", "scope": "1", "mode": "live",
                                  "confirmed_estimate": "2"}, page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/steps/{attempt:int}/{position:int}/{part:str}",
         "/w/acme/executions/{done_run}/steps/1/1/input", (LOGIN, 200, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/code", "/w/acme/executions/{done_run}/code",
         (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/review", "/w/acme/executions/{done_run}/review",
         (LOGIN, 409, 409, 404), {"decision": "approve"}, page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/results", "/w/acme/executions/{done_run}/results",
         (LOGIN, 303, 303, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/results", "/w/acme/executions/{done_run}/results",
         (LOGIN, 303, 303, 404), {"action": "approve", "result_ids": ["{rec}"]}, page=True),
    Case("POST", "/w/{ws:str}/results/{result_id:uuid}/content", "/w/acme/results/{content}/content",
         (LOGIN, 303, 303, 404), {"text": "Edited on the page."}, page=True),
    Case("POST", "/w/{ws:str}/results/{result_id:uuid}/done", "/w/acme/results/{action}/done",
         (LOGIN, 303, 303, 404), {"done": "true"}, page=True),
    Case("GET", "/w/{ws:str}/results/{result_id:uuid}/charts/{section:int}/{index:int}",
         "/w/acme/results/{report}/charts/0/0", (LOGIN, 200, 200, 404), page=True),
    Case("GET", "/w/{ws:str}/schedules", "/w/acme/schedules", (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/schedules", "/w/acme/schedules", (LOGIN, 303, 303, 404),
         {"name": "Nightly", "cron": "0 3 * * *", "agent": "noop", "inputs": "{}", "scope": "", "mode": "live"},
         page=True),
    Case("POST", "/w/{ws:str}/schedules/{schedule_id:uuid}/toggle", "/w/acme/schedules/{schedule}/toggle",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/schedules/{schedule_id:uuid}/delete", "/w/acme/schedules/{schedule}/delete",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/schedules/{schedule_id:uuid}/edit", "/w/acme/schedules/{schedule}/edit",
         (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/schedules/{schedule_id:uuid}/edit", "/w/acme/schedules/{schedule}/edit",
         (LOGIN, 303, 303, 404), {"name": "Weekly", "cron": "0 7 * * 1", "inputs": "{}", "scope": "2", "mode": "live"},
         page=True),
    Case("POST", "/w/{ws:str}/schedules/{schedule_id:uuid}/run", "/w/acme/schedules/{schedule}/run",
         (LOGIN, 303, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/connectors", "/w/acme/connectors", (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/connectors", "/w/acme/connectors", (LOGIN, 403, 303, 404),
         {"name": "Shop", "base_url": "http://127.0.0.1:9", "secret": "token-5678-abcdef-long"}, page=True),
    Case("POST", "/w/{ws:str}/connectors/{connector_id:uuid}/remove", "/w/acme/connectors/{connector}/remove",
         (LOGIN, 403, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/members", "/w/acme/members", (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/members/{user_id:uuid}/role", "/w/acme/members/{mia}/role", (LOGIN, 403, 303, 404),
         {"role": "admin"}, page=True),
    Case("POST", "/w/{ws:str}/members/{user_id:uuid}/remove", "/w/acme/members/{mia}/remove", (LOGIN, 403, 303, 404),
         {}, page=True),
    Case("POST", "/w/{ws:str}/invitations", "/w/acme/invitations", (LOGIN, 403, 200, 404),
         {"email": "new@example.com", "role": "member"}, page=True),
    Case("POST", "/w/{ws:str}/invitations/{invitation_id:uuid}/revoke", "/w/acme/invitations/{invitation}/revoke",
         (LOGIN, 403, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/tokens", "/w/acme/tokens", (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/tokens", "/w/acme/tokens", (LOGIN, 200, 200, 404), {"name": "page token"}, page=True),
    Case("POST", "/w/{ws:str}/tokens/{token_id:uuid}/revoke", "/w/acme/tokens/{mia_token}/revoke",
         (LOGIN, 404, 303, 404), {}, page=True),
    Case("GET", "/w/{ws:str}/executions/{execution_id:uuid}/share", "/w/acme/executions/{done_run}/share",
         (LOGIN, 200, 200, 404), page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/share", "/w/acme/executions/{done_run}/share",
         (LOGIN, 303, 303, 404), {"user_id": "{mia}"}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/share/{user_id:uuid}/remove",
         "/w/acme/executions/{shared_run}/share/{member}/remove", (LOGIN, 403, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/links", "/w/acme/executions/{done_run}/links",
         (LOGIN, 200, 200, 404), {"password": "a long enough password", "expires_in_days": "7"}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/links/{link_id:uuid}/revoke",
         "/w/acme/executions/{done_run}/links/{link}/revoke", (LOGIN, 303, 303, 404), {}, page=True),
    Case("POST", "/w/{ws:str}/executions/{execution_id:uuid}/links/{link_id:uuid}/unlock",
         "/w/acme/executions/{done_run}/links/{link}/unlock", (LOGIN, 303, 303, 404), {}, page=True),
    # a shared link: anyone may ask for the password; nothing shows before it is given
    Case("GET", "/s/{token:str}", "/s/{link_token}", (200, 200, 200, 200), page=True),
    Case("POST", "/s/{token:str}", "/s/{link_token}", (303, 303, 303, 303), {"password": "a long enough password"},
         page=True),
    Case("GET", "/s/{token:str}/export", "/s/{link_token}/export?format=csv", (404, 404, 404, 404), page=True),
    Case("GET", "/s/{token:str}/results/{result_id:uuid}/charts/{section:int}/{index:int}",
         "/s/{link_token}/results/{report}/charts/0/0", (404, 404, 404, 404), page=True),
    Case("GET", "/s/{token:str}/files/{result_id:uuid}/download", "/s/{link_token}/files/{artifact}/download",
         (404, 404, 404, 404), page=True),
]


@pytest.mark.pure
def test_every_route_is_in_the_matrix(app):
    routes = {(m, r.path) for r in app.routes for m in getattr(r, "methods", ()) if m not in ("HEAD", "OPTIONS")}
    covered = {(c.method, c.route) for c in CASES}
    assert routes - covered == set(), "add these routes to the access matrix"
    assert covered - routes == set(), "the matrix names routes that no longer exist"


async def _world(factory, shop) -> dict:
    team = await factory.team()
    mia = await factory.user("mia@acme.example", "Mia Member")
    await factory.member("acme", mia)
    mia_token = await factory.token("acme", mia)
    async with atomic():
        admin_scope = await resolve_scope("acme", team.admin.id)
        invitation, link = await invitations.invite(admin_scope, "invitee@example.com", "member")
    mia_tokens = (await tokens.list_tokens(await resolve_scope("acme", mia.id))).items
    assert mia_token
    await factory.credits("acme", 1000)
    member_scope = await resolve_scope("acme", team.member.id)
    async with atomic():  # a queued run of the member's (no worker runs in this test), and a finished one
        run = await launch.start(member_scope, launch.Request("noop", {}))
        done_run = await launch.start(member_scope, launch.Request("test-results", {}))
        admin_run = await launch.start(admin_scope, launch.Request("noop", {}))
        connector = await connectors.create(admin_scope, "Demo", "http://127.0.0.1:8", "token-1234-abcdef-long")
        schedule = await scheduling.create(member_scope, name="Weekly", agent="noop", inputs={}, scope=None,
                                           mode="live", cron="0 6 * * 1")
        shared_run = await launch.start(admin_scope, launch.Request("noop", {}))
        await sharing.share(admin_scope, shared_run["id"], team.member.id)
        share_link, link_token = await links.create(member_scope, done_run["id"], "a long enough password")
    await runner.run_execution(done_run["id"])
    await runner.run_execution(admin_run["id"])
    async with atomic():  # a finished run of the member's, archived, with the member's request to restore it
        archived_run = await launch.start(member_scope, launch.Request("test-results", {}))
    await runner.run_execution(archived_run["id"])
    await archiver.archive_now(admin_scope.workspace_id, archived_run["id"], team.admin.id)
    async with atomic():
        restore_request = await restores.ask(member_scope, archived_run["id"])
        await retention_repository.add_alert(admin_scope.workspace_id, "storage_unavailable", "S3 was down", 3)
    alert = (await fetch("SELECT id FROM retention_alerts"))[0]["id"]
    purchase = await _paid_purchase(admin_scope, shop)
    # the invitation's email, failed (so "send again" has something to do), and an unsubscribe link
    email = (await fetch("UPDATE email_outbox SET failed_at = now(), last_error = '550 no such user' "
                         "WHERE to_email = 'invitee@example.com' RETURNING id"))[0]["id"]
    by_kind = {r["kind"]: r["id"] for r in reversed(await ExecutionResult.select().where(
        ExecutionResult.execution == done_run["id"]))}
    return {
        "team": team,
        "ids": {"mia": mia.id, "invitation": invitation.id, "mia_token": mia_tokens[0].id,
                "invite_token": link.rsplit("/", 1)[1], "run": run["id"], "done_run": done_run["id"],
                "admin_run": admin_run["id"],
                "rec": by_kind["recommendation"], "content": by_kind["content"], "artifact": by_kind["artifact"],
                "action": by_kind["action_item"], "report": by_kind["report"],
                "connector": connector["id"], "schedule": schedule["id"], "shared_run": shared_run["id"],
                "member": team.member.id, "link": share_link.id, "link_token": link_token,
                "purchase": purchase, "email": email, "archived_run": archived_run["id"],
                "restore_request": restore_request["id"], "alert": alert,
                "unsubscribe": notification_preferences.unsubscribe_token("invitee@example.com", "invitation")},
    }


async def _paid_purchase(admin_scope, shop) -> object:
    """A starter pack bought on devstripe's hosted page, its webhook events received through the service."""
    from agentledger.billing import purchases, webhooks

    bought = await purchases.start(admin_scope, "starter")
    assert shop.hosted(bought.stripe_session, "pay").status_code == 303
    for delivery in shop.session_deliveries(bought.stripe_session):
        async with atomic():
            await webhooks.receive(delivery["payload"].encode(), delivery["signature"])
    return bought.id


@pytest.fixture(scope="module")
def shop():
    """devstripe as Stripe for the whole module (the settings are read per request)."""
    with devstripe() as server:
        saved = {key: os.environ.get(key) for key in server.settings}
        os.environ.update(server.settings)
        get_settings.cache_clear()
        yield server
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


async def _stream_status(base: str, url: str, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client, \
            client.stream("GET", url, headers=headers) as response:
        return response.status_code


@dataclass
class Caller:
    """One person's way in, taken once per world: API token, session cookies and the pages' CSRF token."""

    person: object | None
    cookies: httpx.Cookies
    csrf: str


@pytest.fixture(scope="module")
async def app():
    """One app serves every case, as one server serves every caller (building one takes about 0.3 s)."""
    from agentledger.web.app import create_app

    return create_app()


@pytest.fixture(scope="module")
async def world(app, shop):
    """Built once through the services, every person signed in, then kept as a snapshot."""
    await truncate_all()
    redis = sync_redis.Redis.from_url(os.environ["REDIS_URL"])
    redis.flushdb()
    redis.close()
    kept = World()
    built = await _world(Factory(), shop)
    team = built["team"]
    transport = httpx.ASGITransport(app=app)
    callers = {}
    for name, person in (("anonymous", None), ("member", team.member), ("admin", team.admin),
                         ("outsider", team.outsider)):
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
            if person:
                assert (await sign_in(client, person.email, person.password)).status_code == 303
            csrf = csrf_from((await client.get("/login", follow_redirects=True)).text)
            callers[name] = Caller(person, httpx.Cookies(client.cookies), csrf)
    kept.ids, kept.callers = built["ids"], callers
    await kept.take()
    yield kept
    await kept.drop()


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.url}")
async def test_access(app, world, case: Case, caller: str, request):
    await world.restore()  # a no-op unless a change came since the snapshot
    reads_only = case.method == "GET"
    if not reads_only:
        world.dirty = True
    who = world.callers[caller]
    person = who.person
    url = case.url.format(**world.ids)
    expected = case.expect[CALLERS.index(caller)]
    if case.body and "result_ids" in case.body:
        case = dataclasses.replace(case, body={**case.body, "result_ids": [str(world.ids["rec"])]})
    if case.body and "user_id" in case.body:
        case = dataclasses.replace(case, body={**case.body, "user_id": case.body["user_id"].format(**world.ids)})
    if case.stream:
        headers = person.bearer if person else {}
        assert await _stream_status(request.getfixturevalue("live_url"), url, headers) == expected
        await world.unchanged()
        return
    transport = httpx.ASGITransport(app=app)
    body = dict(case.body) if case.body is not None else None
    # anonymous carries only the CSRF cookie, and only where it posts a form (as a first visit would)
    cookies = httpx.Cookies(who.cookies) if case.page and (person or body is not None) else None
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", cookies=cookies) as client:
        headers: dict[str, str] = {}
        if case.page:
            if body is not None:
                body["_csrf_token"] = who.csrf
            response = await client.request(case.method, url, data=body)
        else:
            if person:
                headers = person.bearer
            response = await client.request(case.method, url, json=body, headers=headers)
    if expected == LOGIN:
        assert response.status_code == 303, response.text[:300]
        assert response.headers["location"].startswith("/login")
    else:
        assert response.status_code == expected, response.text[:300]
    if reads_only:
        await world.unchanged()
