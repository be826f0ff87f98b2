"""Processes and ports of the sandbox: detached servers, readiness polls, clean stops.

Split from ``mediawiki.py`` so that file reads as "install and configure a wiki"; this one
is the plumbing that makes ``down`` leave no process and no listening port behind.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Sequence

from automod.errors import SandboxError

__all__ = ["loopback", "port_free", "reuse_or_free", "running", "spawn", "stop", "url_host", "wait_closed",
           "wait_ready"]

log = logging.getLogger("automod.sandbox")

STOP_TIMEOUT = 5.0
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only

# Children started by this process: kept so down() can reap them (a zombie still answers kill 0).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}

# --------------------------------------------------------------------------- network


def loopback(host: str) -> str:
    """The address to bind; anything that is not loopback is refused."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise SandboxError(f"refusing host {host!r}: the sandbox binds loopback addresses only") from None
    if not addr.is_loopback:
        raise SandboxError(f"refusing host {host!r}: the sandbox binds loopback addresses only")
    return str(addr)


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def port_free(host: str, port: int, kind: socket.SocketKind) -> bool:
    with socket.socket(_family(host), kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as php -S and the relay do
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def reuse_or_free(host: str, previous: int | None, kind: socket.SocketKind,
                   avoid: frozenset[int] | set[int] = frozenset()) -> int:
    if previous and previous not in avoid and port_free(host, previous, kind):
        return previous
    while True:
        with socket.socket(_family(host), kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in avoid:
            return port


def _probe(url: str, want_generator: bool) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=3) as resp:
            if resp.status != 200:
                return False
            if not want_generator:
                return True
            general = json.loads(resp.read()).get("query", {}).get("general", {})
            return str(general.get("generator", "")).startswith("MediaWiki")
    except (OSError, ValueError):
        return False


def wait_ready(checks: dict[str, tuple[str, bool, Path]], procs: dict[str, subprocess.Popen[bytes]],
                deadline: float, logs: Path) -> None:
    """Poll each process's URL (name -> url, expect a MediaWiki siteinfo, log file) until all
    answer; fail fast if a process dies."""
    pending = dict(checks)
    while pending:
        for name, (url, gen, _) in list(pending.items()):
            if _probe(url, gen):
                del pending[name]
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise SandboxError(f"{name} exited with {proc.returncode}: {_tail(checks[name][2])}")
        if pending and time.monotonic() > deadline:
            raise SandboxError(f"not ready in time: {', '.join(pending)}; see {logs}")
        if pending:
            time.sleep(0.05)


def wait_closed(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket(_family(host), socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex((host, port)) != 0:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- processes


def spawn(argv: list[str], logfile: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """Detached (own session): it outlives `automod sandbox up` and is stopped as a group."""
    with open(logfile, "ab") as out:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=cwd, start_new_session=True)
    _CHILDREN[proc.pid] = proc
    log.debug("started pid %d: %s", proc.pid, " ".join(argv))
    return proc


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            del _CHILDREN[pid]
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def _wait_reaped(pid: int) -> None:
    """Reap our own child for good: a leader thread shows as a zombie while its other
    threads still exit, and cannot be reaped until they have (kill 0 would still answer)."""
    proc = _CHILDREN.pop(pid, None)
    if proc is None:
        _reap(pid)
        return
    try:
        proc.wait(timeout=3.0)
    except subprocess.TimeoutExpired:
        log.warning("pid %d stopped but could not be reaped", pid)


def running(pid: int, argv: Sequence[str]) -> bool:
    """Alive, not a zombie, and still running our command line (pids get reused)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now holds the pid
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return True  # no procfs: trust kill(0)
    try:
        status = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = [a.decode(errors="replace") for a in (proc / "cmdline").read_bytes().split(b"\0")[:-1]]
    except (OSError, IndexError):
        return False
    return status not in ("Z", "X") and cmdline == list(argv)


def _group_alive(pgid: int) -> bool:
    """Any non-zombie process left in the group (a zombie leader may await another parent)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not Path("/proc/self").is_dir():
        return True
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
                return True
    return False


def stop(pid: int, argv: Sequence[str]) -> None:
    """SIGTERM the process group, wait, SIGKILL what is left; raise if anything survives."""
    if not running(pid, argv):
        _reap(pid)
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 3.0)):
        try:
            os.killpg(pid, sig)  # start_new_session: the pgid is the pid
            if sig == signal.SIGTERM:
                os.killpg(pid, signal.SIGCONT)  # a stopped (SIGSTOP) server gets its TERM now
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(pid)
            if not running(pid, argv) and not _group_alive(pid):
                _wait_reaped(pid)
                return
            time.sleep(0.05)
        log.warning("pid %d survived %s", pid, sig.name)
    raise SandboxError(f"could not stop pid {pid}")
