"""OIDC sign-in with Authlib: authorization code + PKCE (S256), with state and nonce checked.

``begin`` answers the provider URL and the values to keep in the session; ``finish`` exchanges the code,
verifies the ID token (signature from the provider's JWKS, issuer, audience, expiry, nonce) and answers
its claims. Accounts are matched by (issuer, subject) or by verified email; nobody is created here.
"""

from __future__ import annotations

import secrets
import time
import warnings
from dataclasses import dataclass
from typing import Any

import authlib.deprecate  # noqa: E402,F401 - registers its warning filter before ours
import httpx
from authlib.common.errors import AuthlibBaseError as OAuthError
from authlib.common.security import generate_token
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

with warnings.catch_warnings():  # authlib nudges towards the optional httpx2; plain httpx works the same
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

from agentledger.platform.config import Settings
from agentledger.platform.errors import BadGateway, BadRequest, Forbidden

_metadata_cache: dict[str, tuple[float, dict[str, Any]]] = {}


@dataclass(frozen=True, slots=True)
class Identity:
    issuer: str
    subject: str
    email: str
    name: str


def redirect_uri(settings: Settings) -> str:
    return f"{settings.public_url}/auth/oidc/callback"


async def _metadata(settings: Settings) -> dict[str, Any]:
    issuer = (settings.oidc_issuer or "").rstrip("/")
    cached = _metadata_cache.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(f"{issuer}/.well-known/openid-configuration")
        response.raise_for_status()
        metadata = response.json()
    _metadata_cache[issuer] = (time.monotonic() + 300, metadata)
    return metadata


def _client(settings: Settings) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
        scope="openid email profile", redirect_uri=redirect_uri(settings),
        code_challenge_method="S256", timeout=10,
    )


async def begin(settings: Settings) -> tuple[str, dict[str, str]]:
    """The authorization URL and the state/nonce/verifier to remember until the callback."""
    metadata = await _metadata(settings)
    pending = {"state": secrets.token_urlsafe(32), "nonce": secrets.token_urlsafe(32),
               "verifier": generate_token(64)}
    async with _client(settings) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=pending["state"], nonce=pending["nonce"],
            code_verifier=pending["verifier"],
        )
    return url, pending


async def finish(settings: Settings, pending: dict[str, str] | None, params: dict[str, str]) -> Identity:
    if params.get("error"):
        raise Forbidden(f"the identity provider refused sign-in: {params.get('error_description') or params['error']}")
    if not pending or not secrets.compare_digest(pending.get("state", ""), params.get("state", "")):
        raise BadRequest("this sign-in link is stale or was not started here; start again from the sign-in page")
    if not params.get("code"):
        raise BadRequest("the identity provider did not send an authorization code")
    metadata = await _metadata(settings)
    try:
        async with _client(settings) as client:
            token = await client.fetch_token(metadata["token_endpoint"], code=params["code"],
                                             code_verifier=pending["verifier"])
            jwks_response = await client.get(metadata["jwks_uri"])
            jwks_response.raise_for_status()
            jwks = jwks_response.json()
    except OAuthError as error:
        raise Forbidden(f"the identity provider refused the sign-in ({error.error}); start again") from None
    except (httpx.HTTPError, ValueError) as error:
        raise BadGateway(f"the identity provider could not be reached ({type(error).__name__}); "
                         "try again shortly") from None
    rules = jwt.JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": settings.oidc_client_id},
        nonce={"essential": True, "value": pending["nonce"]},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        claims = jwt.decode(token["id_token"], KeySet.import_key_set(jwks)).claims
        rules.validate(claims)
    except (JoseError, KeyError, ValueError) as error:
        raise Forbidden(f"the identity token could not be verified ({error}); try signing in again") from None
    if not claims.get("email") or claims.get("email_verified") is not True:
        raise Forbidden("the identity provider did not share a verified email address")
    return Identity(metadata["issuer"], str(claims["sub"]), str(claims["email"]).lower(),
                    str(claims.get("name") or claims["email"]))


