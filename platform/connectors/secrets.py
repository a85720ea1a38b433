"""Connector secrets, encrypted at rest with a key derived from SECRET_KEY (HKDF, its own purpose label),
so a database dump alone does not hand out the tokens of every connected site."""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from agentledger.platform.config import get_settings
from agentledger.platform.errors import AppError


class SecretUnreadable(AppError):
    status_code = 409
    code = "secret_unreadable"


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"agentledger connector secrets").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(plain.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet(get_settings().secret_key).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("this connector's secret cannot be read (SECRET_KEY changed?); save it again")
