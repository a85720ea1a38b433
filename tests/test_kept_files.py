"""The demo's object store outlives its process: everything saved when one moto stops is back, byte for
byte and with its content type, in the next one; what was deleted meanwhile is not; objects written while
the demo runs are copied within seconds, so even a moto killed outright keeps them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager

import boto3
import pytest

from agentledger.platform import kept_files
from agentledger.platform.embedded import free_port, wait_for_port

pytestmark = pytest.mark.pure


@contextmanager
def moto():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=30)
        env = {"S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_ACCESS_KEY_ID": "dev", "S3_SECRET_ACCESS_KEY": "x"}
        yield env, boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1",
                                aws_access_key_id="dev", aws_secret_access_key="x"), process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(10)


def test_objects_survive_a_restart_and_deletions_stay_deleted(tmp_path):
    pack = os.urandom(300_000) + b"\x00\x1f\x8b"
    with moto() as (env, s3, _):
        s3.create_bucket(Bucket="agentledger")
        s3.put_object(Bucket="agentledger", Key="workspaces/1/archive/2026/12/p.jsonl.gz", Body=pack,
                      ContentType="application/gzip")
        s3.put_object(Bucket="agentledger", Key="workspaces/1/../odd key ü", Body=b"x")
        assert kept_files.save(env, tmp_path) == 2
    with moto() as (env, s3, _):
        assert kept_files.load(env, tmp_path) == 2
        got = s3.get_object(Bucket="agentledger", Key="workspaces/1/archive/2026/12/p.jsonl.gz")
        assert got["Body"].read() == pack and got["ContentType"] == "application/gzip"
        s3.delete_object(Bucket="agentledger", Key="workspaces/1/../odd key ü")
        assert kept_files.save(env, tmp_path) == 1
    assert len([p for p in tmp_path.iterdir() if p.name != "index.json"]) == 1  # the deleted one's file went
    with moto() as (env, s3, _):
        kept_files.load(env, tmp_path)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="agentledger")["Contents"]]
        assert keys == ["workspaces/1/archive/2026/12/p.jsonl.gz"]


def test_a_first_start_has_nothing_to_load(tmp_path):
    with moto() as (env, _, _):
        assert kept_files.load(env, tmp_path / "never-saved") == 0


def test_a_save_downloads_only_what_changed(tmp_path):
    with moto() as (env, s3, _):
        s3.create_bucket(Bucket="agentledger")
        s3.put_object(Bucket="agentledger", Key="a", Body=b"first")
        s3.put_object(Bucket="agentledger", Key="b", Body=b"kept as it is")
        assert kept_files.save(env, tmp_path) == 2
        written = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
        time.sleep(0.05)
        s3.put_object(Bucket="agentledger", Key="a", Body=b"second")
        assert kept_files.save(env, tmp_path) == 2
        again = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
        changed = {name for name in again if again[name] != written.get(name)}
        assert changed == {kept_files._name("agentledger", "a"), "index.json"}  # "b" was not downloaded again
    with moto() as (env, s3, _):
        kept_files.load(env, tmp_path)
        assert s3.get_object(Bucket="agentledger", Key="a")["Body"].read() == b"second"


def test_objects_written_while_the_demo_runs_survive_a_kill_9(tmp_path):
    with moto() as (env, s3, process):
        s3.create_bucket(Bucket="agentledger")
        stop = kept_files.keep(env, tmp_path, every=0.1)
        try:
            s3.put_object(Bucket="agentledger", Key="workspaces/1/archive/p.jsonl.gz", Body=b"\x1f\x8b pack",
                          ContentType="application/gzip")
            deadline = time.monotonic() + 10
            while not (tmp_path / "index.json").exists() and time.monotonic() < deadline:
                time.sleep(0.05)  # the index is written last, after the object's file
        finally:
            stop()
        process.kill()  # no clean stop, so no last save
    with moto() as (env, s3, _):
        assert kept_files.load(env, tmp_path) == 1
        got = s3.get_object(Bucket="agentledger", Key="workspaces/1/archive/p.jsonl.gz")
        assert got["Body"].read() == b"\x1f\x8b pack" and got["ContentType"] == "application/gzip"
