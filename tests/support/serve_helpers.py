"""`automod serve` as a real child process on 127.0.0.1 (a free port), for tests and benchmarks."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from support.relay_helpers import spawn, wait_for

__all__ = ["ServeProcess", "free_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """``automod serve --model local:NAME …`` started and waited for until the model is ready."""

    def __init__(self, settings: Path, model_dir: Path, *extra: str, name: str = "revertrisk-language-agnostic",
                 timeout: float = 60, python_args: tuple[str, ...] = ("-m", "automod")) -> None:
        """``python_args``: what runs ``automod`` (e.g. ``("-c", CODE)`` wrapping ``automod.cli.main``)."""
        self.port = free_port()
        self.name = name
        self.log = settings.parent / f"serve-{self.port}.log"
        with self.log.open("w") as out:
            self.proc = spawn([sys.executable, *python_args, "serve", "--settings", str(settings),
                               "--model", f"local:{model_dir.name}", "--models-dir", str(model_dir.parent),
                               "--port", str(self.port), *extra], stdout=out, stderr=subprocess.STDOUT)
        self.session = requests.Session()
        self.session.trust_env = False
        try:
            wait_for(self._ready, timeout=timeout, interval=0.1)
        except BaseException:
            self.stop()
            raise

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def models_url(self) -> str:
        """What a Lift Wing client is given as ``liftwing.url``."""
        return f"{self.base}/v1/models/"

    @property
    def url(self) -> str:
        """Same as :attr:`models_url`: lets tests pass a server where a Lift Wing stand-in goes."""
        return self.models_url

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"automod serve exited {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            return self.session.get(f"{self.base}/v1/models/{self.name}", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def predict(self, body: object, *, name: str | None = None,
                content_type: str = "application/json") -> requests.Response:
        url = f"{self.models_url}{name or self.name}:predict"
        if not isinstance(body, (bytes, str)):
            return self.session.post(url, json=body, timeout=30)
        return self.session.post(url, data=body, headers={"Content-Type": content_type}, timeout=30)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.session.close()
        return int(self.proc.returncode)

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# The multilingual model served by tests/serving (its name on the server, its folder name).
NAME = "revertrisk-multilingual"
MODEL = "served-ml"

#: `automod ARGS` that fails at exit when torch was imported.
WITHOUT_TORCH = ("import sys, automod.cli\n"
                 "rc = automod.cli.main(sys.argv[1:])\n"
                 "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
                 "print(f'torch modules at exit: {loaded[:5]}', file=sys.stderr, flush=True)\n"
                 "sys.exit(rc if not loaded else 3)\n")

