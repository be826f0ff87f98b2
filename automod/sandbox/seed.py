"""A realistic, backdated edit history for a sandbox wiki (``automod sandbox seed``).

A new sandbox holds only its Main Page, so ``automod train --from-api`` has nothing to learn
from. Seeding writes articles about the towns of a made-up valley, improved over about two
and a half days by several accounts and IP editors, with vandalism (blanking, insults, link
spam, shouting, nonsense) by IPs and fresh accounts, each reverted by a human (mostly the
``Patroller`` account) minutes later, restoring the earlier text (an identity revert, which
is what the training label looks for: :mod:`automod.training.labels`).

MediaWiki stamps live edits with the wall clock, so the history is imported with
``importDump.php`` (real timestamps in the past), ``rebuildrecentchanges.php`` over the
seed's own time range (so ``list=recentchanges`` sees it, as the trainer needs) and
``initEditCount.php``; the seed's accounts get registration dates that fit their edits.
Nothing goes through the RC feed: a bot started later never sees these edits in the
stream, and they are all older than any ``max_edit_age_minutes`` anyway.

The text builders (:func:`article`, :func:`constructive`, :func:`vandalism`) are also what
the training tests write live.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

import requests

from automod.errors import SandboxError
from automod.sandbox.instances import run_php

__all__ = ["HUB_PAGE", "TOWNS", "SeedResult", "article", "constructive", "seed", "vandalism"]

#: The page that marks a seeded wiki (and links every seeded article).
HUB_PAGE = "Sandbox Valley"
TOWNS = ("Riverford", "Ashcombe", "Brindle Cross", "Coldharbour", "Dunmere", "Eastwick Mill", "Fallowfield",
         "Greystone", "Hollins End", "Ivybridge Green", "Juniper Hill", "Kestrel Bay", "Larkspur", "Millbrook",
         "Northam Ferry", "Oakhurst", "Pennock", "Quarry Vale", "Redwater", "Stonebridge", "Thornbury",
         "Upper Wyke", "Velden", "Westmoor", "Yarrowby", "Alder Rise", "Beckford", "Cinderford Vale",
         "Drayton Marsh", "Elmstead", "Foxley", "Gorsebrook", "Harrowgate Mill", "Inchmoor", "Kingsmere",
         "Lowther Bridge")
#: Who writes constructive edits (registered a year before the history) ...
WRITERS = ("Admin", "Patroller", "Riverwatcher", "Mapmaker", "Quillfeather")
#: ... and who vandalises from an account (registered minutes before their first edit).
VANDAL_ACCOUNTS = ("Lolcat99", "Spamlord", "Xx Destroyer xX")
CREATED_WRITERS = WRITERS[2:]
IPS = ("203.0.113.7", "198.51.100.23", "192.0.2.45", "203.0.113.91", "198.51.100.160", "192.0.2.201")
HISTORY_HOURS = 60.0  # the first edit, before now
QUIET_MINUTES = 45.0  # the last edit, before now: older than any max_edit_age_minutes


def article(topic: str, n: int) -> str:
    """A new, referenced, categorised article about the place ``topic``."""
    return (f"'''{topic}''' is a [[place]] in the [[Sandbox Valley]] with [[river|rivers]] and [[hill]]s."
            f"<ref>Survey of {topic}, page {n}.</ref>\n\n"
            f"[[File:{topic} view.jpg|thumb|The view]]\n\n"
            f"== History ==\nFounded in {1800 + n} by [[settlers]].<ref name=\"h{n}\">Annals, {n}.</ref>\n\n"
            f"== Geography ==\nThe [[climate]] is mild.\n\n"
            f"== References ==\n<references />\n\n[[Category:Places]]\n[[Category:{topic}]]\n")


def constructive(text: str, page: int, step: int) -> str:
    """``text`` with one more referenced or linked sentence before the references."""
    sentences = [
        f"The [[population]] was {1000 + 37 * page + step} in the last [[census]].<ref>Census {step}.</ref>",
        f"=== Economy ===\nLocal [[farming]] and [[tourism]] dominate ({step}).",
        f"A [[bridge]] crosses the river since {1900 + step}.<ref>Bridges of the valley, {page}.</ref>",
        f"Notable people include [[Person {page}-{step}]].",
        f"The town has a [[library]] and a [[museum]] (opened {1950 + step}).",
        f"The [[parish church]] dates from the {12 + step % 5}th century.<ref>Churches, {page}.</ref>",
        f"A weekly [[market]] is held on {('Mondays', 'Wednesdays', 'Saturdays')[step % 3]}.",
    ]
    marker = "\n== References =="
    head, _, tail = text.partition(marker)
    return f"{head.rstrip()}\n{sentences[step % len(sentences)]}\n{marker}{tail}"


def vandalism(text: str, kind: int, n: int) -> str:
    """``text`` vandalised: 0 replaced by a taunt, 1 insult, 2 link spam, 3 shouting, 4 nonsense,
    5 blanked."""
    kind %= 6
    if kind == 0:
        return f"lol this page is rubbish {n}"
    if kind == 5:
        return ""
    if kind == 1:
        return f"YOU ARE ALL STUPID IDIOTS {n} HAHAHA\n" + text
    if kind == 2:
        spam = "\n".join(f"* [http://cheap-pills-{n}-{i}.example.com BUY CHEAP PILLS NOW]" for i in range(4))
        return text + "\n" + spam
    if kind == 3:
        _lead, _, tail = text.partition("\n\n")
        return f"THIS TOWN IS THE BEST IN THE WORLD!!!!!!! EVERYONE ELSE IS BORING!!!!! {n}\n\n{tail}"
    middle = len(text) // 2
    return text[:middle] + f" asdfghjkl qwertyuiop zxcvb {n} jjjjjjjj " + text[middle:]


@dataclass(frozen=True)
class SeededRevision:
    """One revision of the seeded history, before import."""

    title: str
    timestamp: datetime
    user: str
    text: str
    comment: str
    vandalism: bool = False


@dataclass(frozen=True)
class SeedResult:
    """What ``seed`` did, for the command's JSON line."""

    already_seeded: bool
    pages: int
    revisions: int
    vandal_edits: int
    first: str
    last: str
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {"already_seeded": self.already_seeded, "pages": self.pages, "revisions": self.revisions,
                "vandal_edits": self.vandal_edits, "first": self.first, "last": self.last,
                "seconds": round(self.seconds, 1)}


def history(now: datetime, seed_value: int = 13) -> list[SeededRevision]:
    """The whole history, deterministic for ``seed_value``, every timestamp before ``now``."""
    rng = random.Random(seed_value)
    start, end = now - timedelta(hours=HISTORY_HOURS), now - timedelta(minutes=QUIET_MINUTES)
    out: list[SeededRevision] = []
    n = 0
    for page, town in enumerate(TOWNS):
        moment = start + timedelta(minutes=rng.uniform(0, 600))
        text = article(town, page)
        out.append(SeededRevision(town, moment, rng.choice(WRITERS), text, "new article"))
        step = 0
        while True:
            moment += timedelta(minutes=rng.uniform(40, 420))
            if moment >= end:
                break
            if rng.random() < 0.62:
                step += 1
                text = constructive(text, page, step)
                editor = rng.choice(IPS) if rng.random() < 0.25 else rng.choice(WRITERS)
                out.append(SeededRevision(town, moment, editor, text,
                                          rng.choice(("expand", "add source", "more history", "", "copyedit"))))
                continue
            n += 1
            vandal = rng.choice(VANDAL_ACCOUNTS) if rng.random() < 0.3 else rng.choice(IPS)
            out.append(SeededRevision(town, moment, vandal, vandalism(text, n, n),
                                      rng.choice(("", "", "fix", "update", "lol")), vandalism=True))
            reverted_at = moment + timedelta(minutes=rng.uniform(1.5, 45))
            if reverted_at >= end:
                reverted_at = end - timedelta(seconds=30)
            reverter = "Patroller" if rng.random() < 0.7 else rng.choice(("Admin", "Riverwatcher"))
            out.append(SeededRevision(town, reverted_at, reverter, text,
                                      f"Reverted edits by [[Special:Contributions/{vandal}|{vandal}]] to last "
                                      f"good version"))
            moment = reverted_at
    hub = "\n".join(f"* [[{town}]]" for town in TOWNS)
    out.append(SeededRevision(HUB_PAGE, start, "Admin", f"The '''Sandbox Valley''' and its towns:\n{hub}\n",
                              "index of the valley's towns"))
    return sorted(out, key=lambda r: (r.timestamp, r.title))


def _xml(revisions: list[SeededRevision]) -> str:
    pages: dict[str, list[SeededRevision]] = {}
    for rev in revisions:
        pages.setdefault(rev.title, []).append(rev)
    parts = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">']
    for title, revs in pages.items():
        parts.append(f"<page><title>{escape(title)}</title><ns>0</ns>")
        for rev in revs:
            who = (f"<ip>{rev.user}</ip>" if rev.user in IPS
                   else f"<username>{escape(rev.user)}</username>")
            parts.append(f"<revision><timestamp>{rev.timestamp.strftime('%Y-%m-%dT%H:%M:%SZ')}</timestamp>"
                         f"<contributor>{who}</contributor><comment>{escape(rev.comment)}</comment>"
                         f"<model>wikitext</model><format>text/x-wiki</format>"
                         f"<text xml:space=\"preserve\">{escape(rev.text)}</text></revision>")
        parts.append("</page>")
    parts.append("</mediawiki>\n")
    return "\n".join(parts)


def _page_exists(api_url: str, title: str) -> bool:
    session = requests.Session()
    session.trust_env = False  # loopback only
    try:
        data = session.get(api_url, params={"action": "query", "titles": title, "format": "json",
                                            "formatversion": "2"}, timeout=30).json()
    except (requests.RequestException, ValueError) as exc:
        raise SandboxError(f"the sandbox wiki at {api_url} does not answer (is it up?): {exc}") from exc
    return not data["query"]["pages"][0].get("missing", False)


def _mw_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def seed(root: Path, api_url: str, php: str = "php", now: datetime | None = None) -> SeedResult:
    """Import the seeded history into the sandbox wiki whose files are under ``root``.

    A wiki that already has :data:`HUB_PAGE` is left alone (safe to run twice).
    """
    started = time.monotonic()
    if _page_exists(api_url, HUB_PAGE):
        return SeedResult(True, 0, 0, 0, "", "", time.monotonic() - started)
    now = now or datetime.now(UTC)
    revisions = history(now)
    first, last = revisions[0].timestamp, revisions[-1].timestamp
    for name in (*CREATED_WRITERS, *VANDAL_ACCOUNTS):
        # --force: an interrupted earlier seed may have created some of them already.
        run_php(php, root, "createAndPromote.php", ["--force", name, _throwaway_password()])
    registered = {name: first - timedelta(days=365) for name in CREATED_WRITERS}
    for name in VANDAL_ACCOUNTS:
        first_edit = min(r.timestamp for r in revisions if r.user == name)
        registered[name] = first_edit - timedelta(minutes=12)
    cases = " ".join(f"WHEN '{name}' THEN '{_mw_time(moment)}'" for name, moment in registered.items())
    names = ", ".join(f"'{name}'" for name in registered)
    query = f"UPDATE user SET user_registration = CASE user_name {cases} END WHERE user_name IN ({names})"
    run_php(php, root, "sql.php", ["--query", query])
    dump = root / "data" / "seed-history.xml"
    dump.write_text(_xml(revisions), encoding="utf-8")
    run_php(php, root, "importDump.php", ["--quiet", str(dump)])
    run_php(php, root, "rebuildrecentchanges.php", ["--from", _mw_time(first - timedelta(seconds=1)),
                                                    "--to", _mw_time(last + timedelta(seconds=1))])
    run_php(php, root, "initEditCount.php", [])
    return SeedResult(False, len({r.title for r in revisions}), len(revisions), sum(r.vandalism for r in revisions),
                      first.strftime("%Y-%m-%dT%H:%M:%SZ"), last.strftime("%Y-%m-%dT%H:%M:%SZ"),
                      time.monotonic() - started)


def _throwaway_password() -> str:
    """Seed accounts never log in; they still need a valid password."""
    import secrets
    import string

    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
