"""A process's resident memory for benchmarks that hold memory to a goal: now, its peak, and a reset of
the peak so each pass measures its own."""

from __future__ import annotations


def memory_mb(field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (its peak) of this process, from /proc (Linux). Not ru_maxrss:
    a child started by subprocess (vfork) inherits its parent's high-water mark there."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise LookupError(field)


def reset_peak() -> None:
    """Set VmHWM back to the resident size now (Linux 4.0+), so the next peak is the next pass's own."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
