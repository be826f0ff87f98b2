"""A real local MediaWiki 1.39 (Debian's package) plus the SSE relay, all state under one DIR.

automod's I/O is tested against real parts, and operators try the bot here before a real
wiki. Everything the wiki writes lives under DIR (``MW_CONFIG_FILE`` points every php step at
``DIR/conf/LocalSettings.php``), so sandboxes are disposable and can run side by side.
``up(dir, wikis=N)`` runs N wikis feeding the one relay (see :mod:`automod.sandbox.instances`);
``up(dir, lang="fr")`` (or ``"en,fr"``, one per wiki) chooses their content language.

``up`` on a DIR whose sandbox is running raises :class:`SandboxError`; on a DIR whose sandbox
was stopped it reuses the installed wiki and accounts and only restarts the servers.
"""

from __future__ import annotations

import json
import logging
import os
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
from automod.sandbox.accounts import Account, new_accounts
from automod.sandbox.instances import (
    MW_DIR,
    WIKI,
    WikiInstance,
    WikiSetup,
    is_installed,
    make_instance,
    php_env,
    set_up_wikis,
    wiki_languages,
    wiki_names,
    wiki_root,
)
from automod.sandbox.processes import (
    loopback,
    port_free,
    reuse_or_free,
    running,
    spawn,
    stop,
    url_host,
    wait_closed,
    wait_ready,
)

__all__ = ["SandboxInfo", "WikiInstance", "up", "down", "is_running", "WIKI", "MW_DIR", "RELAY_MODULE"]

log = logging.getLogger("automod.sandbox")

RELAY_MODULE = "automod.sandbox.relay"
USER_AGENT = "automod-sandbox/0.1 (local test wiki; no contact)"
LIFTWING_URL = "http://127.0.0.1:1/service/lw/inference/v1/models/"
CONFIG_PAGE = "MediaWiki:Automod-config.json"
STATE_FILE = "sandbox.json"
READY_TIMEOUT = 20.0


@dataclass(frozen=True)
class SandboxInfo:
    """Where a running sandbox answers and who can log in to it.

    The top-level fields describe the first wiki; ``wikis`` lists every wiki, first included.
    """

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
    wikis: tuple[WikiInstance, ...] = ()

    def __post_init__(self) -> None:
        if not self.wikis:
            first = make_instance(self.dir, self.wiki, self.server, self.port, self.php_pid)
            object.__setattr__(self, "wikis", (first,))

    def instance(self, name: str) -> WikiInstance:
        """The wiki whose dbname is ``name``."""
        for wiki in self.wikis:
            if wiki.name == name:
                return wiki
        raise KeyError(name)

    @property
    def server(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.server}/api.php"

    @property
    def index_url(self) -> str:
        return f"{self.server}/index.php"

    @property
    def relay_url(self) -> str:
        return f"http://{url_host(self.host)}:{self.relay_port}"

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
        return php_env(self.dir)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
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
        if len(self.wikis) > 1:  # a one-wiki sandbox keeps its historical shape
            data["wikis"] = [w.to_json() for w in self.wikis]
        return data


# --------------------------------------------------------------------------- public API


def up(dir: Path, port: int | None = None, host: str = "127.0.0.1", wikis: int = 1,
       lang: str | Sequence[str] | None = None) -> SandboxInfo:
    """Install (first time) and start the wikis and the relay; return once all of them answer.

    ``port`` is the first wiki's; further wikis (``wikis`` > 1) get free ports of their own.
    ``lang`` is every wiki's content language, or one per wiki (``"en,fr"``); by default each
    wiki keeps the language it last ran with (English for a new one).
    """
    started = time.monotonic()
    bind = loopback(host)
    if port is not None and not 0 < port < 65536:
        raise SandboxError(f"invalid port {port}")
    names = wiki_names(wikis)
    asked = wiki_languages(lang, len(names)) if lang is not None else None  # refused before any file is made
    php = _require_tools()
    root = Path(dir).expanduser().resolve()
    for sub in ("conf", "data", "logs", "pywikibot"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name in names[1:]:
        for sub in ("conf", "data", "logs"):
            (wiki_root(root, name) / sub).mkdir(parents=True, exist_ok=True)

    state = _load_state(root)
    if state and _running_procs(state):
        raise SandboxError(
            f"the sandbox in {root} is already running; stop it with `automod sandbox down --dir {root}`"
        )
    installed = bool(state and state.get("installed") and is_installed(root, WIKI))
    old = state or {}
    # Further wikis share the first one's accounts: reinstalling it reinstalls them too.
    old_extra: dict[str, Any] = old.get("wikis", {}) if installed else {}
    if port is not None and not port_free(bind, port, socket.SOCK_STREAM):
        raise SandboxError(f"port {bind}:{port} is in use")
    ports = {WIKI: port or reuse_or_free(bind, old.get("port") if installed else None, socket.SOCK_STREAM)}
    for name in names[1:]:
        ports[name] = reuse_or_free(bind, old_extra.get(name, {}).get("port"), socket.SOCK_STREAM,
                                     avoid=set(ports.values()))
    port = ports[WIKI]
    udp_port = reuse_or_free("127.0.0.1", old.get("udp_port"), socket.SOCK_DGRAM)
    relay_port = reuse_or_free(bind, old.get("relay_port"), socket.SOCK_STREAM, avoid=set(ports.values()))
    servers = {name: f"http://{url_host(bind)}:{p}" for name, p in ports.items()}
    old_langs: dict[str, str] = old.get("langs", {}) if installed else {}
    langs = dict(zip(names, asked)) if asked else {n: old_langs.get(n, "en") for n in names}

    if installed:
        accounts = {k: Account.from_state(v) for k, v in old["accounts"].items()}
        log.info("reusing the wiki installed in %s", root)
    else:
        accounts = new_accounts()
    ready = {n for n in names if installed and (n == WIKI or (
        old_extra.get(n, {}).get("installed") and is_installed(wiki_root(root, n), n)))}
    set_up_wikis(php, [WikiSetup(wiki_root(root, n), n, servers[n], n not in ready, langs[n]) for n in names],
                 udp_port, accounts)

    state = {"version": 1, "installed": True, "host": bind, "port": port, "udp_port": udp_port,
             "relay_port": relay_port, "processes": {},
             "accounts": {k: a.to_state() for k, a in accounts.items()}, "langs": {**old_langs, **langs}}
    extra = {**old_extra, **{n: {"port": ports[n], "installed": True} for n in names[1:]}}
    if extra:
        state["wikis"] = extra
    _save_state(root, state)

    instances = tuple(make_instance(root, n, servers[n], ports[n], lang=langs[n]) for n in names)
    info = SandboxInfo(root, bind, port, udp_port, relay_port, 0, 0, accounts, wikis=instances)
    _write_settings(info)
    _write_pywikibot(info)

    relay_argv = [sys.executable, "-m", RELAY_MODULE, "--history", str(info.history),
                  "--udp-port", str(udp_port), "--http-host", bind,
                  "--http-port", str(relay_port), "--server-name", "127.0.0.1"]
    procs: dict[str, subprocess.Popen[bytes]] = {}
    checks = {"relay": (f"{info.relay_url}/health", False, root / "logs/relay.log")}
    try:
        for wiki in instances:
            key = _proc_key(wiki.name)
            php_argv = [php, "-S", f"{url_host(bind)}:{wiki.port}", "-t", str(MW_DIR)]
            procs[key] = spawn(php_argv, wiki.log_file, wiki.php_env(), wiki.root)
            checks[key] = (f"{wiki.api_url}?action=query&meta=siteinfo&format=json", True, wiki.log_file)
            if key == "php":
                procs["relay"] = spawn(relay_argv, root / "logs/relay.log", _relay_env(), root)
        state["processes"] = {n: {"pid": p.pid, "argv": list(p.args)}  # type: ignore[arg-type]  # spawn's argv list
                              for n, p in procs.items()}
        _save_state(root, state)
        wait_ready(checks, procs, started + READY_TIMEOUT, root / "logs")
    except BaseException:
        for name, proc in procs.items():
            stop(proc.pid, list(proc.args))  # type: ignore[arg-type]  # Popen.args: spawn's argv list
        state["processes"] = {}
        _save_state(root, state)
        raise
    elapsed = time.monotonic() - started
    instances = tuple(make_instance(root, w.name, w.server, w.port, procs[_proc_key(w.name)].pid, w.lang)
                      for w in instances)
    log.info("sandbox up in %.2f s: %s, stream %s", elapsed,
             ", ".join(w.api_url for w in instances), info.stream_url)
    return SandboxInfo(root, bind, port, udp_port, relay_port, procs["php"].pid,
                       procs["relay"].pid, accounts, elapsed, wikis=instances)


def down(dir: Path) -> None:
    """Stop the sandbox's processes, every wiki's php server and the relay (TERM, then KILL),
    and check their ports are closed.

    Idempotent; leaves every file in DIR in place so ``up`` can restart the same wikis.
    """
    root = Path(dir).expanduser().resolve()
    state = _load_state(root)
    if not state:
        log.info("no sandbox state in %s; nothing to stop", root)
        return
    processes = state.get("processes", {})
    failures = []
    for name in sorted(processes, key=lambda n: n != "relay"):  # the relay first, then php
        proc = processes[name]
        try:
            stop(int(proc["pid"]), proc["argv"])
        except SandboxError as exc:
            failures.append(f"{name}: {exc}")
            continue
        log.info("stopped %s (pid %s)", name, proc["pid"])
    host = state.get("host", "127.0.0.1")
    ports = [state.get("port"), state.get("relay_port")]
    extra = state.get("wikis", {})
    ports += [extra.get(n[len("php:"):], {}).get("port") for n in processes if n.startswith("php:")]
    for port in ports:
        if port and not wait_closed(host, int(port), 3.0):
            failures.append(f"port {host}:{port} still accepts connections after stopping")
    if failures:
        raise SandboxError("; ".join(failures))
    state["processes"] = {}
    _save_state(root, state)


def is_running(dir: Path) -> bool:
    """Whether any process of the sandbox in DIR is alive."""
    state = _load_state(Path(dir).expanduser().resolve())
    return bool(state and _running_procs(state))


# --------------------------------------------------------------------------- install


def _proc_key(name: str) -> str:
    """Key of a wiki's php server in the state file: "php" for the first (as ever), else php:NAME."""
    return "php" if name == WIKI else f"php:{name}"


def _require_tools() -> str:
    php = shutil.which("php")
    if not php:
        raise SandboxError("php not found: apt-get install php-cli php-sqlite3 php-intl php-mbstring php-xml")
    if not (MW_DIR / "maintenance/install.php").exists():
        raise SandboxError(f"MediaWiki not found in {MW_DIR}: apt-get install --no-install-recommends mediawiki")
    return php


def _relay_env() -> dict[str, str]:
    # The relay must import automod even when it is not installed, only on sys.path.
    src = str(Path(automod.__file__).resolve().parent.parent)
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{path}" if path else src}


def _write_settings(info: SandboxInfo) -> None:
    settings = {
        "user_agent": USER_AGENT,
        "store": str(info.dir / "automod.sqlite"),
        "stream": {"url": info.stream_url},
        "liftwing": {"url": LIFTWING_URL, "token_env": "LIFTWING_TOKEN"},
        "wikis": [{"name": w.name, "api": w.api_url, "config_page": CONFIG_PAGE, "lang": w.lang}
                  for w in info.wikis],
        "pywikibot_dir": str(info.pywikibot_dir),
        "models_dir": str(info.dir / "models"),  # the sandbox's own models (`automod train`), not the checkout's
    }
    settings = _kept_operator_settings(info.settings, settings)
    info.settings.write_text("# Written by `automod sandbox up` for the local test wiki; keys it does not write\n"
                             "# (e.g. a central_config block) are kept when it runs again, comments are not.\n"
                             + yaml.safe_dump(settings, sort_keys=False))


def _kept_operator_settings(path: Path, owned: dict[str, Any]) -> dict[str, Any]:
    """``owned`` (what ``sandbox up`` writes) over the settings already in ``path``: the
    operator's own keys — a ``central_config`` block, a wiki's ``stats_page`` … — survive
    another ``sandbox up``; the keys it owns are rewritten (ports change between runs)."""
    try:
        old = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return owned
    if not isinstance(old, dict):
        return owned
    merged = {**owned, **{k: v for k, v in old.items() if k not in owned}}
    for key, value in owned.items():
        if isinstance(value, dict) and isinstance(old.get(key), dict):
            merged[key] = {**old[key], **value}
    old_wikis = {w.get("name"): w for w in old.get("wikis") or [] if isinstance(w, dict)}
    merged["wikis"] = [{**old_wikis.get(w["name"], {}), **w} for w in owned["wikis"]]
    return merged


def _write_pywikibot(info: SandboxInfo) -> None:
    """pywikibot's own files: credentials stay there, never in settings.yaml.

    One family per wiki (family name = code = dbname); the first wiki is the default site.
    """
    pwb, bot = info.pywikibot_dir, info.bot
    password_file = pwb / "user-password.py"
    families = "".join(f"family_files[{w.name!r}] = {w.api_url!r}\n" for w in info.wikis)
    usernames = "".join(f"usernames[{w.name!r}]['*'] = {bot.name!r}\n" for w in info.wikis)
    (pwb / "user-config.py").write_text(f"""# Written by `automod sandbox up` for the local test wiki.
{families}family = {WIKI!r}
mylang = {WIKI!r}
{usernames}password_file = {str(password_file)!r}
user_agent_description = {USER_AGENT!r}
put_throttle = 0
minthrottle = 0
maxthrottle = 60
read_maxlag = 30
write_maxlag = 5
max_retries = 2
retry_wait = 1
retry_max = 4
socket_timeout = (5, 30)
""")
    fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"({bot.name!r}, BotPassword({bot.appid!r}, {bot.botpassword!r}))\n")
        # The interface admin, for `automod install-gadgets --as Admin` (the bot never logs in as it).
        fh.write(f"({info.admin.name!r}, BotPassword({info.admin.appid!r}, {info.admin.botpassword!r}))\n")
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
    return [n for n, p in state.get("processes", {}).items() if running(int(p["pid"]), p["argv"])]
