"""A scripted sandbox history for training tests, and a plain-HTTP ``query`` function.

The texts come from :mod:`automod.sandbox.seed` (what ``automod sandbox seed`` imports,
backdated); here they are written live, so each test module gets revisions of its own.

The history is as small as gives a model something real to learn: articles created and
improved by registered users, vandalism (blanking, insults, link spam) by IP editors and
now and then by a registered vandal, each undone by another user, half by rollback and half
by a manual revert that restores the earlier text; a few constructive IP edits too.
"""

from __future__ import annotations

import calendar
import itertools
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from automod.errors import WikiError, WikiUnavailable
from automod.sandbox import SandboxInfo
from automod.sandbox.mediawiki import MW_DIR, USER_AGENT
from automod.sandbox.seed import article, constructive, vandalism
from support.relay_helpers import wait_for
from support.wiki import WikiClient

__all__ = ["ScriptedHistory", "article", "constructive", "dump_wiki", "query_function", "script_history",
           "vandalism"]

PAGES = 24
CONSTRUCTIVE_PER_PAGE = 4
VANDALISM_PER_PAGE = 3


def query_function(api_url: str) -> Callable[..., dict[str, Any]]:
    """``query(**params)`` → formatversion-2 JSON over plain HTTP (what WikiGateway.query does)."""
    session = requests.Session()
    session.trust_env = False
    session.headers["User-Agent"] = USER_AGENT + " training tests"

    def query(**params: Any) -> dict[str, Any]:
        try:
            resp = session.post(api_url, data={"action": "query", "format": "json", "formatversion": 2, **params},
                                timeout=30)
            resp.raise_for_status()
        except requests.RequestException as exc:
            raise WikiUnavailable(str(exc)) from exc
        data: dict[str, Any] = resp.json()
        if "error" in data:
            raise WikiError(f"{data['error'].get('code')}: {data['error'].get('info')}")
        return data

    return query


@dataclass
class ScriptedHistory:
    started: float = field(default_factory=time.time)
    titles: list[str] = field(default_factory=list)
    vandal_revs: list[int] = field(default_factory=list)
    good_revs: list[int] = field(default_factory=list)
    revert_revs: list[int] = field(default_factory=list)

    @property
    def labels(self) -> dict[int, bool]:
        """What every scripted non-creation edit should be labelled."""
        return {**{r: True for r in self.vandal_revs}, **{r: False for r in self.good_revs + self.revert_revs}}

    def days(self, margin: float | None = None) -> float:
        """A data window (in days) reaching back just before this history began: the shared
        sandbox holds other tests' edits too, which would teach the model their habits."""
        return (time.time() - self.started + (WINDOW_MARGIN if margin is None else margin)) / 86400


#: Seconds a history's data window reaches back before its first edit (MediaWiki stamps
#: edits to the second).
WINDOW_MARGIN = 5.0


def _quiet_for(client: WikiClient, seconds: float) -> bool:
    """Whether the wiki's newest recent change is at least ``seconds`` old."""
    changes = client.get(action="query", list="recentchanges", rcprop="timestamp", rclimit=1)["query"]["recentchanges"]
    if not changes:
        return True
    newest = calendar.timegm(time.strptime(changes[0]["timestamp"], "%Y-%m-%dT%H:%M:%SZ"))
    return time.time() - newest >= seconds


def script_history(sandbox: SandboxInfo, wiki: Callable[..., WikiClient], prefix: str,
                   pages: int = PAGES) -> ScriptedHistory:
    """Write the scripted history on ``pages`` new pages titled ``prefix N``, once the wiki
    has been quiet long enough that its data window (:meth:`ScriptedHistory.days`) holds no
    edit of an earlier test: a test just before, reverting nothing it left, would otherwise
    hand the model a few foreign "good" vandal edits."""
    admin, patroller = wiki(sandbox.admin), wiki(sandbox.patroller)
    wait_for(lambda: _quiet_for(admin, WINDOW_MARGIN + 1.0), timeout=30, interval=0.5)
    writers = itertools.cycle([wiki(sandbox.vandals[0]), patroller, admin])
    anon = wiki()
    registered_vandal = wiki(sandbox.vandals[1])
    out = ScriptedHistory()
    n = 0
    for p in range(pages):
        title = f"{prefix} {p}"
        out.titles.append(title)
        text = article(f"Town{p}", p)
        next(writers).edit(title, text, summary="new article")
        for step in range(CONSTRUCTIVE_PER_PAGE + VANDALISM_PER_PAGE):
            if step % 2 == 0:
                text = constructive(text, p, step)
                out.good_revs.append(next(writers).edit(title, text, summary=f"expand ({step})"))
                if p % 3 == 0 and step == 0:
                    # A constructive IP edit; a registered edit follows, so no rollback of an
                    # IP vandal edit later takes it along.
                    text = text.replace("is mild.", "is mild and wet.", 1)
                    out.good_revs.append(anon.edit(title, text, summary="typo"))
                    text = constructive(text, p, 7)
                    out.good_revs.append(next(writers).edit(title, text, summary="expand"))
                continue
            n += 1
            vandal = registered_vandal if (p % 4 == 1 and step == 1) else anon
            out.vandal_revs.append(vandal.edit(title, vandalism(text, n % 3, n), summary="" if n % 2 else "fix"))
            if n % 2:
                out.revert_revs.append(int(admin.rollback(title, vandal.name, summary="rv vandalism")["revid"]))
            else:
                out.revert_revs.append(patroller.edit(title, text, summary="Reverted vandalism"))
    return out


def dump_wiki(sandbox: SandboxInfo, path: Path) -> Path:
    """Write ``dumpBackup.php --full`` of the whole sandbox wiki to ``path``."""
    with path.open("wb") as out:
        subprocess.run(["php", str(MW_DIR / "maintenance/dumpBackup.php"), "--full", "--quiet"],
                       env=sandbox.php_env(), stdout=out, stderr=subprocess.PIPE, timeout=300, check=True)
    return path
