"""The set-up the sandbox benchmarks share (bench_api_cost, bench_decisions, bench_report_flood,
bench_restarts): a working folder, one sandbox wiki of their own with the suite's generous rate
limits (plus any PHP a benchmark adds), and API clients for its admin and vandals.

Import it after ``sys.path`` has ``tests/`` (each benchmark adds it for ``support``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from automod.sandbox import SandboxInfo, down, up
from support.wiki import GENEROUS_LIMITS, WikiClient

__all__ = ["bench_dirs", "clients", "start_sandbox", "stop_sandbox"]


def bench_dirs(dir: Path | None, prefix: str) -> tuple[Path, Path]:
    """``dir`` (or a new temporary folder named ``prefix…``) and its ``run`` folder, made."""
    root = dir or Path(tempfile.mkdtemp(prefix=prefix))
    work = root / "run"
    work.mkdir(parents=True, exist_ok=True)
    return root, work


def start_sandbox(root: Path, extra_php: str = GENEROUS_LIMITS) -> SandboxInfo:
    """A running sandbox in ``root/sandbox`` reading ``extra_php`` (stopped again if that fails)."""
    sandbox = up(root / "sandbox")
    try:
        (sandbox.dir / "conf/extra.php").write_text(extra_php)
    except BaseException:
        down(root / "sandbox")
        raise
    return sandbox


def clients(sandbox: SandboxInfo) -> tuple[WikiClient, list[WikiClient]]:
    """The admin's client and one client per vandal account."""
    return WikiClient(sandbox, sandbox.admin), [WikiClient(sandbox, v) for v in sandbox.vandals]


def stop_sandbox(root: Path) -> None:
    down(root / "sandbox")
