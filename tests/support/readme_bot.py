"""The README's `automod run` step, run as its "second terminal" does, for the tests that follow
a README section verbatim (the English trial, the central configuration section)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

from support.relay_helpers import wait_for


class ReadmeBot:
    """`automod run` as the README writes it: its JSON lines collected, its stderr in ``log``."""

    def __init__(self, argv: list[str], log: Path, cwd: Path) -> None:
        self.log = log
        with log.open("w") as stderr:
            self.proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def decision(self, rev_id: int, timeout: float = 30) -> dict[str, Any]:
        """The bot's final line about ``rev_id`` (a rollback waiting for a slot is not final)."""
        def found() -> dict[str, Any] | None:
            lines = [line for line in self.lines if line["rev_id"] == rev_id
                     and line["decision"] != "rollback-pending"]
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            return lines[-1] if lines else None
        return wait_for(found, timeout=timeout, interval=0.1)

    def stop(self, wait: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # the README's Ctrl-C
        code = self.proc.wait(wait)
        self._reader.join(5)
        return code
