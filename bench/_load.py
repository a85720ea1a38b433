"""HTTP load for benchmarks: wrk when the machine has it, else a small keep-alive asyncio client.

Both targets of a comparison are always measured with the same tool in the same run, so the ratio is
fair even where the absolute numbers differ between tools.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from urllib.parse import urlsplit


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "asyncio client"


def requests_per_second(url: str, headers: dict[str, str], seconds: float = 10, connections: int = 32) -> float:
    if shutil.which("wrk"):
        return _wrk(url, headers, seconds, connections)
    return asyncio.run(_asyncio_load(url, headers, seconds, connections))


def _wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    args = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{int(seconds)}s"]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


async def _asyncio_load(url: str, headers: dict[str, str], seconds: float, connections: int) -> float:
    parts = urlsplit(url)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n".encode()
    deadline = time.monotonic() + seconds
    counts = []

    async def one() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        done = 0
        while time.monotonic() < deadline:
            writer.write(request)
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"unexpected response: {status!r}")
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            done += 1
        writer.close()
        counts.append(done)

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    return sum(counts) / (time.monotonic() - started)
