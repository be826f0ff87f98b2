"""One running bot per store: an advisory lock held for the process's lifetime.

Two ``automod run`` on one store would both decide the same edits and race each other's
rollbacks. The lock is ``flock`` on ``<store>.lock``: the kernel drops it the moment its
process dies (``kill -9`` included), so a lock left by a killed process never blocks a
restart, and there is no stale-pid guessing. The file holds the holder's pid, only to
name it in the refusal.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from automod.errors import StoreError

__all__ = ["InstanceLock", "lock_path"]


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


class InstanceLock:
    """``with InstanceLock(store):`` — raises StoreError naming the running process if taken."""

    def __init__(self, store: Path):
        self.path = lock_path(Path(store))
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(f"another automod run (pid {holder}) is using the store {self.path.with_suffix('')}; "
                             "stop it first (only one bot per store)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:  # a full or read-only disk: the pid stays, but the lock goes with close
                pass
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    @staticmethod
    def holder(store: Path) -> int | None:
        """The pid of the process holding the lock on ``store``, or None if nobody does."""
        path = lock_path(Path(store))
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
                return int(text) if text.isdigit() else -1
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
