"""A real local MediaWiki 1.39 (Debian's package) plus the SSE relay, all state under one DIR.

automod's I/O is tested against real parts, and operators try the bot here before a real
wiki. Everything the wiki writes lives under DIR (``MW_CONFIG_FILE`` points every php step at
``DIR/conf/LocalSettings.php``), so sandboxes are disposable and can run side by side.

``up`` on a DIR whose sandbox is running raises :class:`SandboxError`; on a DIR whose sandbox
was stopped it reuses the installed wiki and accounts and only restarts the servers.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import yaml

import automod
from automod.errors import SandboxError
from automod.sandbox.accounts import Account, create_accounts, new_accounts
from automod.sandbox.processes import (
    _loopback, _port_free, _reuse_or_free, _running, _spawn, _stop,
    _url_host, _wait_closed, _wait_ready,
)

__all__ = ["SandboxInfo", "up", "down", "is_running", "WIKI", "MW_DIR", "RELAY_MODULE"]

log = logging.getLogger("automod.sandbox")

MW_DIR = Path("/usr/share/mediawiki")
WIKI = "sandboxwiki"  # dbname = the "wiki" field of RC events
RELAY_MODULE = "automod.sandbox.relay"
USER_AGENT = "automod-sandbox/0.1 (local test wiki; no contact)"
LIFTWING_URL = "http://127.0.0.1:1/service/lw/inference/v1/models/"
CONFIG_PAGE = "MediaWiki:Automod-config.json"
STATE_FILE = "sandbox.json"
READY_TIMEOUT = 20.0
_BEGIN, _END = "# BEGIN automod-sandbox", "# END automod-sandbox"


@dataclass(frozen=True)
class SandboxInfo:
    """Where a running sandbox answers and who can log in to it."""

    dir: Path
    host: str
    port: int
    udp_port: int
    relay_port: int
    php_pid: int
    relay_pid: int
    accounts: dict[str, Account] = field(repr=False)
    startup_seconds: float = 0.0
    wiki: str = WIKI

    @property
    def server(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.server}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.server}/index.php"

    @property
    def relay_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.relay_port}"

    @property
    def stream_url(self) -> str:
        return f"{self.relay_url}/v2/stream/recentchange"

    @property
    def settings(self) -> Path:
        return self.dir / "settings.yaml"

    @property
    def pywikibot_dir(self) -> Path:
        return self.dir / "pywikibot"

    @property
    def history(self) -> Path:
        return self.dir / "stream-history.ndjson"

    @property
    def config_file(self) -> Path:
        return self.dir / "conf" / "LocalSettings.php"

    @property
    def admin(self) -> Account:
        return self.accounts["admin"]

    @property
    def bot(self) -> Account:
        return self.accounts["bot"]

    @property
    def patroller(self) -> Account:
        return self.accounts["patroller"]

    @property
    def vandals(self) -> tuple[Account, Account]:
        return (self.accounts["vandal1"], self.accounts["vandal2"])

    def php_env(self) -> dict[str, str]:
        """Environment for running maintenance scripts against this sandbox."""
        return _php_env(self.dir)

    def to_json(self) -> dict[str, Any]:
        return {
            "api_url": self.api_url,
            "index_url": self.index_url,
            "stream_url": self.stream_url,
            "settings": str(self.settings),
            "pywikibot_dir": str(self.pywikibot_dir),
            "accounts": {
                "admin": self.admin.to_json(),
                "bot": self.bot.to_json(),
                "patroller": self.patroller.to_json(),
                "vandals": [v.to_json() for v in self.vandals],
            },
        }


# --------------------------------------------------------------------------- public API


def up(dir: Path, port: int | None = None, host: str = "127.0.0.1") -> SandboxInfo:
    """Install (first time) and start the wiki and the relay; return once both answer."""
    started = time.monotonic()
    bind = _loopback(host)
    if port is not None and not 0 < port < 65536:
        raise SandboxError(f"invalid port {port}")
    php = _require_tools()
    root = Path(dir).expanduser().resolve()
    for sub in ("conf", "data", "logs", "pywikibot"):
        (root / sub).mkdir(parents=True, exist_ok=True)

    state = _load_state(root)
    if state and _running_procs(state):
        raise SandboxError(
            f"the sandbox in {root} is already running; stop it with `automod sandbox down --dir {root}`"
        )
    installed = bool(
        state and state.get("installed") and (root / "conf/LocalSettings.php").exists()
        and (root / "data" / f"{WIKI}.sqlite").exists()
    )
    old = state or {}
    if port is not None and not _port_free(bind, port, socket.SOCK_STREAM):
        raise SandboxError(f"port {bind}:{port} is in use")
    port = port or _reuse_or_free(bind, old.get("port") if installed else None, socket.SOCK_STREAM)
    udp_port = _reuse_or_free("127.0.0.1", old.get("udp_port"), socket.SOCK_DGRAM)
    relay_port = _reuse_or_free(bind, old.get("relay_port"), socket.SOCK_STREAM, avoid={port})
    server = f"http://{_url_host(bind)}:{port}"

    if installed:
        accounts = {k: Account.from_state(v) for k, v in old["accounts"].items()}
        log.info("reusing the wiki installed in %s", root)
    else:
        accounts = new_accounts()
        _install(php, root, server, accounts["admin"].password)
    _write_local_settings(root, server, udp_port)
    if not installed:
        create_accounts(accounts, lambda script, args: _run_php(php, root, script, args))

    state = {"version": 1, "installed": True, "host": bind, "port": port, "udp_port": udp_port,
             "relay_port": relay_port, "processes": {},
             "accounts": {k: a.to_state() for k, a in accounts.items()}}
    _save_state(root, state)

    info = SandboxInfo(root, bind, port, udp_port, relay_port, 0, 0, accounts)
    _write_settings(info)
    _write_pywikibot(info)

    php_argv = [php, "-S", f"{_url_host(bind)}:{port}", "-t", str(MW_DIR)]
    relay_argv = [sys.executable, "-m", RELAY_MODULE, "--history", str(info.history),
                  "--udp-port", str(udp_port), "--http-host", bind,
                  "--http-port", str(relay_port), "--server-name", "127.0.0.1"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        procs["php"] = _spawn(php_argv, root / "logs/php.log", _php_env(root), root)
        procs["relay"] = _spawn(relay_argv, root / "logs/relay.log", _relay_env(), root)
        state["processes"] = {n: {"pid": p.pid, "argv": list(p.args)} for n, p in procs.items()}  # type: ignore[arg-type]
        _save_state(root, state)
        _wait_ready(info, procs, started + READY_TIMEOUT)
    except BaseException:
        for name, proc in procs.items():
            _stop(proc.pid, list(proc.args))  # type: ignore[arg-type]
        state["processes"] = {}
        _save_state(root, state)
        raise
    elapsed = time.monotonic() - started
    log.info("sandbox up in %.2f s: %s, stream %s", elapsed, info.api_url, info.stream_url)
    return SandboxInfo(root, bind, port, udp_port, relay_port, procs["php"].pid,
                       procs["relay"].pid, accounts, elapsed)


def down(dir: Path) -> None:
    """Stop the sandbox's processes (TERM, then KILL) and check their ports are closed.

    Idempotent; leaves every file in DIR in place so ``up`` can restart the same wiki.
    """
    root = Path(dir).expanduser().resolve()
    state = _load_state(root)
    if not state:
        log.info("no sandbox state in %s; nothing to stop", root)
        return
    for name in ("relay", "php"):
        proc = state.get("processes", {}).get(name)
        if proc:
            _stop(int(proc["pid"]), proc["argv"])
            log.info("stopped %s (pid %s)", name, proc["pid"])
    host = state.get("host", "127.0.0.1")
    for port in (state.get("port"), state.get("relay_port")):
        if port and not _wait_closed(host, int(port), 3.0):
            raise SandboxError(f"port {host}:{port} still accepts connections after stopping")
    state["processes"] = {}
    _save_state(root, state)


def is_running(dir: Path) -> bool:
    """Whether any process of the sandbox in DIR is alive."""
    state = _load_state(Path(dir).expanduser().resolve())
    return bool(state and _running_procs(state))


# --------------------------------------------------------------------------- install


def _require_tools() -> str:
    php = shutil.which("php")
    if not php:
        raise SandboxError("php not found: apt-get install php-cli php-sqlite3 php-intl php-mbstring php-xml")
    if not (MW_DIR / "maintenance/install.php").exists():
        raise SandboxError(f"MediaWiki not found in {MW_DIR}: apt-get install --no-install-recommends mediawiki")
    return php


def _php_env(root: Path) -> dict[str, str]:
    return {**os.environ, "MW_CONFIG_FILE": str(root / "conf/LocalSettings.php")}


def _relay_env() -> dict[str, str]:
    # The relay must import automod even when it is not installed, only on sys.path.
    src = str(Path(automod.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src}


def _run_php(php: str, root: Path, script: str, args: Sequence[str]) -> str:
    argv = [php, str(MW_DIR / "maintenance" / script), *args]
    res = subprocess.run(argv, env=_php_env(root), cwd=root, capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise SandboxError(f"{script} failed ({res.returncode}): {(res.stdout + res.stderr)[-2000:]}")
    return res.stdout


def _install(php: str, root: Path, server: str, admin_password: str) -> None:
    """Run install.php; leftovers of an earlier failed install are removed first."""
    conf, data = root / "conf/LocalSettings.php", root / "data"
    if conf.exists() or any(data.iterdir()):
        log.warning("removing an incomplete install in %s", root)
        conf.unlink(missing_ok=True)
        shutil.rmtree(data)
        data.mkdir()
    _run_php(php, root, "install.php", [
        "--dbtype=sqlite", f"--dbpath={data}", f"--dbname={WIKI}", f"--server={server}",
        "--scriptpath=", f"--confpath={root / 'conf'}", "--lang=en", f"--pass={admin_password}",
        "--skins=Vector", "SandboxWiki", "Admin",
    ])


def _write_local_settings(root: Path, server: str, udp_port: int) -> None:
    """(Re)write our block at the end of LocalSettings.php; later assignments win."""
    path = root / "conf/LocalSettings.php"
    text = re.sub(rf"\n?{_BEGIN}.*?{_END}\n", "\n", path.read_text(), flags=re.S)
    block = f"""{_BEGIN} (rewritten by `automod sandbox up`)
$wgServer = {json.dumps(server)};
$wgRCFeeds['automod'] = [ 'uri' => 'udp://127.0.0.1:{udp_port}', 'formatter' => 'JSONRCFeedFormatter' ];
$wgGroupPermissions['rollbacker']['rollback'] = true;
$wgGroupPermissions['autopatroller']['autopatrol'] = true;
# Shared by php -S and CLI scripts (APCu is per process), and rate limits stay enforced.
$wgMainCacheType = CACHE_DB;
$wgEnableUploads = false;
$wgEnableEmail = false;
$wgEnableUserEmail = false;
$wgEmailAuthentication = false;
$wgEnotifUserTalk = false;
$wgEnotifWatchlist = false;
$wgShowExceptionDetails = true;
# Every anonymous test edit comes from 127.0.0.1, so the per-IP edit limit (8/min) would be
# shared by the whole test run; registered and rollback limits stay at core defaults.
$wgRateLimits['edit']['ip'] = [ 600, 60 ];
$wgRateLimits['edit']['newbie'] = [ 600, 60 ];
# Tests and demos may add settings here at run time (php -S reads this on every request).
if ( is_readable( __DIR__ . '/extra.php' ) ) {{
    // OPcache re-checks timestamps only every few seconds: always compile the current file.
    if ( function_exists( 'opcache_invalidate' ) ) {{ opcache_invalidate( __DIR__ . '/extra.php', true ); }}
    require __DIR__ . '/extra.php';
}}
{_END}
"""
    path.write_text(text.rstrip("\n") + "\n\n" + block)


def _write_settings(info: SandboxInfo) -> None:
    settings = {
        "user_agent": USER_AGENT,
        "store": str(info.dir / "automod.sqlite"),
        "stream": {"url": info.stream_url},
        "liftwing": {"url": LIFTWING_URL, "token_env": "LIFTWING_TOKEN"},
        "wikis": [{"name": WIKI, "api": info.api_url, "config_page": CONFIG_PAGE, "lang": "en"}],
        "pywikibot_dir": str(info.pywikibot_dir),
    }
    info.settings.write_text("# Written by `automod sandbox up` for the local test wiki.\n"
                             + yaml.safe_dump(settings, sort_keys=False))


def _write_pywikibot(info: SandboxInfo) -> None:
    """pywikibot's own files: credentials stay there, never in settings.yaml."""
    pwb, bot = info.pywikibot_dir, info.bot
    password_file = pwb / "user-password.py"
    (pwb / "user-config.py").write_text(f"""# Written by `automod sandbox up` for the local test wiki.
family_files[{WIKI!r}] = {info.api_url!r}
family = {WIKI!r}
mylang = {WIKI!r}
usernames[{WIKI!r}]['*'] = {bot.name!r}
password_file = {str(password_file)!r}
user_agent_description = {USER_AGENT!r}
put_throttle = 0
read_maxlag = 30
write_maxlag = 5
max_retries = 3
retry_wait = 1
retry_max = 10
socket_timeout = (5, 30)
""")
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"({bot.name!r}, BotPassword({bot.appid!r}, {bot.botpassword!r}))\n")
    os.chmod(password_file, 0o600)


# --------------------------------------------------------------------------- state


def _load_state(root: Path) -> dict[str, Any] | None:
    path = root / STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SandboxError(f"unreadable {path}: {exc}") from exc


def _save_state(root: Path, state: dict[str, Any]) -> None:
    """Atomic and 0600: the file holds the accounts' passwords."""
    path = root / STATE_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(state, fh, indent=2)
    os.replace(tmp, path)


def _running_procs(state: dict[str, Any]) -> list[str]:
    return [n for n, p in state.get("processes", {}).items() if _running(int(p["pid"]), p["argv"])]
