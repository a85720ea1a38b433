"""Object storage (any S3-compatible server): run artifacts now, archives and PDFs later.

Every object of a workspace lives under ``workspaces/<workspace id>/``, so one prefix holds, exports or
deletes a tenant's files. boto3 is synchronous: calls run on a thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from agentledger.platform.config import get_settings
from agentledger.platform.errors import AppError, NotFound


class StorageUnavailable(AppError):
    status_code = 503
    code = "storage_unavailable"


@lru_cache(maxsize=1)
def _client() -> Any:
    import boto3
    from botocore.config import Config

    settings = get_settings()
    return boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id, aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"},
                      connect_timeout=min(5, settings.s3_timeout_seconds), read_timeout=settings.s3_timeout_seconds),
    )


def bucket() -> str:
    name = get_settings().s3_bucket
    if not name:
        raise StorageUnavailable("file storage is not configured: set S3_BUCKET (and S3_ENDPOINT_URL)")
    return name


def workspace_key(workspace_id: UUID, *parts: str) -> str:
    return "/".join((f"workspaces/{workspace_id}", *parts))


async def _call(operation: str, **params: Any) -> Any:
    """One S3 call on a thread; a store that cannot be reached is a 503 that says so, not a 500."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return await asyncio.to_thread(getattr(_client(), operation), Bucket=bucket(), **params)
    except ClientError:
        raise
    except BotoCoreError as error:
        raise StorageUnavailable(f"file storage cannot be reached right now ({type(error).__name__})") from None


def _missing(error: Any) -> bool:
    """A ClientError that says the object (or key) is not there."""
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


async def put(key: str, data: bytes, content_type: str) -> None:
    await _call("put_object", Key=key, Body=data, ContentType=content_type)


async def get(key: str) -> bytes:
    """The object's bytes; 404 when it is gone (deleted, or the store was reset)."""
    from botocore.exceptions import ClientError

    try:
        answer = await _call("get_object", Key=key)
    except ClientError as error:
        if _missing(error):
            raise NotFound("the file is no longer in storage") from None
        raise StorageUnavailable(f"file storage refused the download ({error.response.get('Error', {}).get('Code')})")
    return await asyncio.to_thread(answer["Body"].read)


async def put_stream(key: str, stream: Any, content_type: str) -> None:
    """Upload a file-like object as it is read (multipart above 8 MB): archives are not held in memory whole."""
    from botocore.exceptions import BotoCoreError, ClientError

    def upload() -> None:
        _client().upload_fileobj(stream, bucket(), key, ExtraArgs={"ContentType": content_type})

    try:
        await asyncio.to_thread(upload)
    except ClientError as error:
        raise StorageUnavailable(f"file storage refused the upload ({error.response.get('Error', {}).get('Code')})") from None
    except BotoCoreError as error:
        raise StorageUnavailable(f"file storage cannot be reached right now ({type(error).__name__})") from None


async def digests(key: str, sizes: list[int]) -> list[str]:
    """Read an object back as a stream and answer the SHA-256 of each of its consecutive parts (``sizes``
    bytes each, from the start): how a pack's documents are checked without holding the pack."""
    import hashlib

    from botocore.exceptions import BotoCoreError, ClientError

    def read() -> list[str]:
        body = _client().get_object(Bucket=bucket(), Key=key)["Body"]
        found, part, left, hasher = [], 0, sizes[0] if sizes else 0, hashlib.sha256()
        for chunk in body.iter_chunks(1 << 20):
            view = memoryview(chunk)
            while view:
                if part >= len(sizes):
                    return [*found, "(longer than written)"]
                take = view[:left]
                hasher.update(take)
                view, left = view[len(take):], left - len(take)
                if left == 0:
                    found.append(hasher.hexdigest())
                    part, hasher = part + 1, hashlib.sha256()
                    left = sizes[part] if part < len(sizes) else 0
        return found

    try:
        return await asyncio.to_thread(read)
    except ClientError as error:
        if _missing(error):
            raise NotFound("the archive is not in storage") from None
        raise StorageUnavailable(f"file storage refused the read ({type(error).__name__})") from None
    except BotoCoreError as error:
        raise StorageUnavailable(f"file storage cannot be reached right now ({type(error).__name__})") from None


async def get_range(key: str, offset: int, size: int) -> bytes:
    """``size`` bytes of an object from ``offset``; 404 when the object is gone."""
    from botocore.exceptions import ClientError

    try:
        answer = await _call("get_object", Key=key, Range=f"bytes={offset}-{offset + size - 1}")
    except ClientError as error:
        if _missing(error):
            raise NotFound("the archive is not in storage") from None
        raise StorageUnavailable(f"file storage refused the download ({error.response.get('Error', {}).get('Code')})")
    return await asyncio.to_thread(answer["Body"].read)


async def delete(key: str) -> None:
    await _call("delete_object", Key=key)


async def delete_prefix(prefix: str) -> int:
    """Delete every object under ``prefix`` (a run's files); answers how many there were."""
    return await delete_where(prefix, _every)


async def delete_older(prefix: str, before: datetime) -> int:
    """Delete the objects under ``prefix`` written before ``before``; answers how many."""
    async def older(items: list[dict[str, Any]]) -> list[str]:
        return [item["Key"] for item in items if item["LastModified"] < before]

    return await delete_where(prefix, older)


async def _every(items: list[dict[str, Any]]) -> list[str]:
    return [item["Key"] for item in items]


async def delete_where(prefix: str, chosen: Callable[[list[dict[str, Any]]], Awaitable[list[str]]]) -> int:
    """Walk the objects under ``prefix`` a listing page (up to 1,000) at a time and delete the keys
    ``chosen(page)`` names (each item has ``Key``, ``LastModified``, ``Size``); answers how many."""
    gone = 0
    token: dict[str, Any] = {}
    while True:
        page = await _call("list_objects_v2", Prefix=prefix, **token)
        keys = await chosen(page.get("Contents", []))
        if keys:
            await _call("delete_objects", Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True})
            gone += len(keys)
        if not page.get("IsTruncated"):
            return gone
        token = {"ContinuationToken": page["NextContinuationToken"]}


async def stored_at(key: str) -> datetime | None:
    """When the object was written, or None when there is none."""
    from botocore.exceptions import ClientError

    try:
        head = await _call("head_object", Key=key)
    except ClientError as error:
        if _missing(error):
            return None
        raise
    return head["LastModified"]


def download_url(key: str, filename: str, expires_seconds: int = 3600) -> str:
    """A signed, expiring link; signing is local (no request to the server)."""
    return _client().generate_presigned_url(
        "get_object", ExpiresIn=expires_seconds,
        Params={"Bucket": bucket(), "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{filename}"'},
    )


def ensure_bucket() -> None:
    """For the dev stack and tests: create the bucket if the server does not have it yet. (Generated
    downloads are deleted by the retention pass, per workspace: the bucket needs no lifecycle rule.)"""
    client = _client()
    try:
        client.head_bucket(Bucket=bucket())
    except client.exceptions.ClientError:
        client.create_bucket(Bucket=bucket())
