"""The demo's object store outlives its process: moto keeps objects in memory only, so the demo copies
every object to a folder every few seconds while it runs (and once more when it stops), and puts them back
when it starts again. Archives must outlive the process that wrote them: a demo killed outright
(``kill -9``, a closed laptop) loses at most the last few seconds of objects. A production store is S3
itself, and this never runs there.

Each object is a file named by the SHA-256 of its bucket and key (keys come back exactly, whatever
characters they hold, and no key can name a path outside the folder); ``index.json`` maps each file to
its bucket, key, content type and ETag. A save downloads only objects that are new or whose ETag changed,
writes their files first and the index last, then removes the files the index no longer names, so a save
cut short leaves the previous index whole."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _client(env: dict[str, str]) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1",
                        aws_access_key_id=env["S3_ACCESS_KEY_ID"], aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"])


def _name(bucket: str, key: str) -> str:
    return hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()


def _index(folder: Path) -> dict[str, dict[str, str]]:
    listing = folder / "index.json"
    if not listing.exists():
        return {}
    try:
        return json.loads(listing.read_text())
    except ValueError:  # not expected (the index is replaced whole), but then everything is copied again
        return {}


def save(env: dict[str, str], folder: Path) -> int:
    """Every object of every bucket into ``folder`` (only what changed since the last save is downloaded);
    answers how many objects the folder holds."""
    client = _client(env)
    folder.mkdir(parents=True, exist_ok=True)
    before = _index(folder)
    index: dict[str, dict[str, str]] = {}
    for bucket in (b["Name"] for b in client.list_buckets().get("Buckets", [])):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                name = _name(bucket, item["Key"])
                kept = before.get(name)
                if kept and kept.get("etag") == item["ETag"] and (folder / name).exists():
                    index[name] = kept
                    continue
                answer = client.get_object(Bucket=bucket, Key=item["Key"])
                part = folder / f"{name}.part"
                part.write_bytes(answer["Body"].read())
                os.replace(part, folder / name)
                index[name] = {"bucket": bucket, "key": item["Key"], "content_type": answer.get("ContentType", ""),
                               "etag": answer["ETag"]}
    if index != before or not (folder / "index.json").exists():
        part = folder / "index.json.part"
        part.write_text(json.dumps(index))
        os.replace(part, folder / "index.json")
    for path in folder.iterdir():
        if path.name != "index.json" and path.name not in index:
            path.unlink()
    return len(index)


def keep(env: dict[str, str], folder: Path, every: float = 5.0) -> Callable[[], None]:
    """Save every ``every`` seconds on a thread of its own until the answered function is called (which
    waits for a save under way to finish). A save that fails (the store stopping) is tried again next time."""
    stop = threading.Event()
    lock = threading.Lock()

    def loop() -> None:
        while not stop.wait(every):
            with lock, contextlib.suppress(Exception):
                save(env, folder)

    threading.Thread(target=loop, name="kept-files", daemon=True).start()

    def stopped() -> None:
        stop.set()
        with lock:
            pass

    return stopped


def load(env: dict[str, str], folder: Path) -> int:
    """Put back what ``save`` kept (buckets included); answers how many objects."""
    listing = folder / "index.json"
    if not listing.exists():
        return 0
    client = _client(env)
    index = json.loads(listing.read_text())
    buckets: set[str] = set()
    for name, entry in index.items():
        if entry["bucket"] not in buckets:
            client.create_bucket(Bucket=entry["bucket"])
            buckets.add(entry["bucket"])
        extra = {"ContentType": entry["content_type"]} if entry["content_type"] else {}
        client.put_object(Bucket=entry["bucket"], Key=entry["key"], Body=(folder / name).read_bytes(), **extra)
    return len(index)
