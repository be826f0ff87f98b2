"""Real small file systems for the store's fault tests: a tmpfs to fill, mounted by the test (root only)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PERMISSION_PROBLEMS = ("permission denied", "not permitted", "must be superuser", "only root",
                       "failed to setup loop device", "cannot find an unused loop device")


def mount(*argv: str) -> None:
    """Mount, or skip the test when this machine does not let the tests mount."""
    if os.geteuid() != 0:
        pytest.skip("mounting a test file system needs root")
    result = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if result.returncode != 0:
        if any(problem in result.stderr.lower() for problem in PERMISSION_PROBLEMS):
            pytest.skip(f"cannot mount here: {result.stderr.strip()}")
        raise AssertionError(f"mount {' '.join(argv)} failed: {result.stderr.strip()}")


def unmount(mount_point: Path) -> None:
    """Unmount even if a process still holds it (a lazy unmount detaches it at once)."""
    if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, check=True)


@contextmanager
def tmpfs(mount_point: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs of the test's own, a disk that can be filled to the last byte;
    unmounted afterwards whatever happens."""
    mount_point.mkdir()
    mount("-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount_point))
    try:
        yield mount_point
    finally:
        unmount(mount_point)


def fill(directory: Path) -> Path:
    """Write a file until the file system has not one byte left; return the file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):
            try:
                while True:
                    os.write(fd, bytes(size))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler

