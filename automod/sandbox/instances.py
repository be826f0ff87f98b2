"""The MediaWiki instances of a sandbox: where each lives, how it is installed and configured.

A sandbox runs one wiki (dbname ``sandboxwiki``, its state directly under DIR) or several, as
Wikimedia's EventStreams carries every wiki in one stream: wiki k >= 2 has dbname
``sandbox{k}wiki`` and lives under ``DIR/wikis/<dbname>/`` with its own conf/, data/ and logs/
and its own ``php -S``. Every wiki sends its RCFeed datagrams to the one relay; events tell
the wikis apart by ``wiki`` (the dbname) and ``server_url`` (the port). ``server_name`` is
the same for all of them: MediaWiki derives it from the host of ``$wgCanonicalServer`` and
overwrites any custom ``$wgServerName``. All wikis share one cast of accounts and passwords,
so one pywikibot password file serves them all. Each wiki has a content language (``lang``,
English unless asked): install.php gets it, and ``$wgLanguageCode`` is rewritten at every
start, so a stopped sandbox can be restarted in another language without reinstalling.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from automod.errors import SandboxError
from automod.sandbox.accounts import Account, create_accounts

__all__ = ["WikiInstance", "WikiSetup", "MW_DIR", "WIKI", "MAX_WIKIS", "wiki_languages", "wiki_names",
           "wiki_root", "make_instance", "is_installed", "php_env", "run_php", "set_up_wikis"]

log = logging.getLogger("automod.sandbox")

MW_DIR = Path("/usr/share/mediawiki")
WIKI = "sandboxwiki"  # dbname of the first wiki = the "wiki" field of its RC events
MAX_WIKIS = 9
_BEGIN, _END = "# BEGIN automod-sandbox", "# END automod-sandbox"


@dataclass(frozen=True)
class WikiInstance:
    """One running (or, with ``php_pid == 0``, about to run) wiki of a sandbox."""

    name: str
    port: int
    api_url: str
    index_url: str
    php_pid: int
    conf_dir: Path
    lang: str = "en"

    @property
    def root(self) -> Path:
        """The directory holding this wiki's conf/, data/ and logs/."""
        return self.conf_dir.parent

    @property
    def server(self) -> str:
        return self.api_url.rsplit("/", 1)[0]

    @property
    def config_file(self) -> Path:
        return self.conf_dir / "LocalSettings.php"

    @property
    def extra_file(self) -> Path:
        """Settings read on every request, for tests and demos (this wiki's only)."""
        return self.conf_dir / "extra.php"

    @property
    def log_file(self) -> Path:
        return self.root / "logs" / "php.log"

    def php_env(self) -> dict[str, str]:
        """Environment for running maintenance scripts against this wiki."""
        return php_env(self.root)

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "api_url": self.api_url, "index_url": self.index_url}


def wiki_names(count: int) -> list[str]:
    """Database names of a sandbox with ``count`` wikis: sandboxwiki, sandbox2wiki, …"""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_WIKIS:
        raise SandboxError(f"invalid number of wikis {count!r}: 1 to {MAX_WIKIS}")
    return [WIKI] + [f"sandbox{k}wiki" for k in range(2, count + 1)]


def wiki_languages(lang: str | Sequence[str], count: int) -> list[str]:
    """One content language per wiki: ``"fr"`` for all of them, or ``"en,fr"`` one each.

    Refused unless MediaWiki ships the language (``languages/messages/MessagesXx.php``).
    """
    codes = [c.strip().lower() for c in (lang.split(",") if isinstance(lang, str) else lang)]
    if len(codes) == 1:
        codes = codes * count
    if len(codes) != count:
        raise SandboxError(f"{len(codes)} languages for {count} wikis: give one, or one per wiki")
    for code in codes:
        file = MW_DIR / "languages/messages" / f"Messages{code[:1].upper()}{code[1:].replace('-', '_')}.php"
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", code) or not file.exists():
            raise SandboxError(f"unknown content language {code!r} (MediaWiki has no {file.name})")
    return codes


def wiki_root(dir: Path, name: str) -> Path:
    return dir if name == WIKI else dir / "wikis" / name


def make_instance(dir: Path, name: str, server: str, port: int, php_pid: int = 0, lang: str = "en") -> WikiInstance:
    return WikiInstance(name, port, f"{server}/api.php", f"{server}/index.php", php_pid,
                        wiki_root(dir, name) / "conf", lang)


def is_installed(root: Path, name: str) -> bool:
    return (root / "conf/LocalSettings.php").exists() and (root / "data" / f"{name}.sqlite").exists()


def php_env(root: Path) -> dict[str, str]:
    return {**os.environ, "MW_CONFIG_FILE": str(root / "conf/LocalSettings.php")}


def run_php(php: str, root: Path, script: str, args: Sequence[str]) -> str:
    argv = [php, str(MW_DIR / "maintenance" / script), *args]
    res = subprocess.run(argv, env=php_env(root), cwd=root, capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise SandboxError(f"{script} failed ({res.returncode}): {(res.stdout + res.stderr)[-2000:]}")
    return res.stdout


@dataclass(frozen=True)
class WikiSetup:
    """What ``set_up_wikis`` does for one wiki: install it first (``fresh``) or only reconfigure."""

    root: Path
    name: str
    server: str
    fresh: bool
    lang: str = "en"


def set_up_wikis(php: str, setups: Sequence[WikiSetup], udp_port: int,
                 accounts: dict[str, Account]) -> None:
    """Install (fresh ones) and configure every wiki; several wikis are set up in parallel."""
    if len(setups) == 1:
        _set_up(php, setups[0], udp_port, accounts)
        return
    with ThreadPoolExecutor(max_workers=len(setups), thread_name_prefix="sandbox-install") as pool:
        futures = [pool.submit(_set_up, php, s, udp_port, accounts) for s in setups]
        for future in futures:
            future.result()  # re-raises the first failure (after every install has finished)


def _set_up(php: str, setup: WikiSetup, udp_port: int, accounts: dict[str, Account]) -> None:
    if setup.fresh:
        _install(php, setup.root, setup.name, setup.server, accounts["admin"].password, setup.lang)
    _write_local_settings(setup.root, setup.server, udp_port, setup.lang)
    if setup.fresh:
        create_accounts(accounts, lambda script, args: run_php(php, setup.root, script, args))


def _install(php: str, root: Path, name: str, server: str, admin_password: str, lang: str) -> None:
    """Run install.php; leftovers of an earlier failed install are removed first."""
    conf, data = root / "conf/LocalSettings.php", root / "data"
    if conf.exists() or any(data.iterdir()):
        log.warning("removing an incomplete install in %s", root)
        conf.unlink(missing_ok=True)
        shutil.rmtree(data)
        data.mkdir()
    sitename = name[: -len("wiki")].capitalize() + "Wiki"  # SandboxWiki, Sandbox2Wiki, …
    run_php(php, root, "install.php", [
        "--dbtype=sqlite", f"--dbpath={data}", f"--dbname={name}", f"--server={server}",
        "--scriptpath=", f"--confpath={root / 'conf'}", f"--lang={lang}", f"--pass={admin_password}",
        "--skins=Vector", sitename, "Admin",
    ])


def _write_local_settings(root: Path, server: str, udp_port: int, lang: str) -> None:
    """(Re)write our block at the end of LocalSettings.php; later assignments win."""
    path = root / "conf/LocalSettings.php"
    text = re.sub(rf"\n?{_BEGIN}.*?{_END}\n", "\n", path.read_text(), flags=re.S)
    block = f"""{_BEGIN} (rewritten by `automod sandbox up`)
$wgServer = {json.dumps(server)};
$wgLanguageCode = {json.dumps(lang)};
$wgRCFeeds['automod'] = [ 'uri' => 'udp://127.0.0.1:{udp_port}', 'formatter' => 'JSONRCFeedFormatter' ];
$wgGroupPermissions['rollbacker']['rollback'] = true;
$wgGroupPermissions['autopatroller']['autopatrol'] = true;
# The review and config gadgets (`automod install-gadgets`); Debian ships the extension.
wfLoadExtension( 'Gadgets' );
# Shared by php -S and CLI scripts (APCu is per process), and rate limits stay enforced.
$wgMainCacheType = CACHE_DB;
# A throwaway wiki: SQLite does not wait for the disk at every commit (only a crash of the
# machine, not of PHP, could lose the last writes). Seeding and every edit take half the time.
$wgDBservers = [ [ 'type' => 'sqlite', 'host' => '', 'dbname' => $wgDBname, 'user' => '', 'password' => '',
    'flags' => DBO_DEFAULT, 'load' => 1, 'variables' => [ 'synchronous' => 'OFF' ] ] ];
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
# Tests play anonymous editors from many addresses: a request from 127.0.0.1 (the only proxy,
# as a CDN would be) may name its client in X-Forwarded-For. Only loopback can set it.
$wgCdnServers = [ '127.0.0.1' ];
$wgUsePrivateIPs = true;
# Tests and demos may add settings here at run time (php -S reads this on every request).
if ( is_readable( __DIR__ . '/extra.php' ) ) {{
    // OPcache re-checks timestamps only every few seconds: always compile the current file.
    if ( function_exists( 'opcache_invalidate' ) ) {{ opcache_invalidate( __DIR__ . '/extra.php', true ); }}
    require __DIR__ . '/extra.php';
}}
{_END}
"""
    path.write_text(text.rstrip("\n") + "\n\n" + block)
