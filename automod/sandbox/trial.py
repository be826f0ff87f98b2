"""Commands that do, on a sandbox, what a newcomer's trial would do in a browser.

``automod sandbox seed`` (a backdated history to train on), ``config`` (save the community
config page as Admin), ``edit`` (edit as one of the sandbox's accounts or as an IP),
``report`` (follow the report link of the bot's notice on a talk page, as that user, and
save the pre-filled section as the browser would: the preload text with its ``~~~~``, so
MediaWiki signs it with the reporter's name) and ``review`` (a reviewer changing
``status: open`` under a report). They log in with the accounts ``sandbox up`` created,
read from DIR, and talk to the sandbox wiki only (loopback).

Talk pages and the report page are editable by anyone: ``report`` only follows a link to
this sandbox's own ``index.php`` with the preload parameters MediaWiki knows, and the
waits here are bounded.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml

from automod.errors import SandboxError
from automod.sandbox.accounts import Account
from automod.sandbox.mediawiki import STATE_FILE, USER_AGENT

__all__ = ["SandboxSession", "TrialWiki", "register"]

T = TypeVar("T")
ANONYMOUS = "IP"
_REPORT_LINK = re.compile(r"\[(https?://[^\s\]]+)[ \]]")
_BOT_LINE = re.compile(r"(automod — revision (\d+) .*?status:\s*)open\b")


@dataclass(frozen=True)
class TrialWiki:
    """The first wiki of a sandbox, as ``sandbox up`` wrote it under DIR."""

    dir: Path
    api_url: str
    config_page: str
    accounts: tuple[Account, ...]

    @classmethod
    def load(cls, dir: Path) -> TrialWiki:
        root = Path(dir).expanduser().resolve()
        try:
            settings = yaml.safe_load((root / "settings.yaml").read_text())
            state = json.loads((root / STATE_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise SandboxError(f"no sandbox in {root} (run `automod sandbox up --dir {dir}` first): {exc}") from exc
        wiki = settings["wikis"][0]
        accounts = tuple(Account.from_state(a) for a in state["accounts"].values())
        return cls(root, str(wiki["api"]), str(wiki["config_page"]), accounts)

    @property
    def index_url(self) -> str:
        return self.api_url.rsplit("/", 1)[0] + "/index.php"

    def session(self, name: str) -> SandboxSession:
        """A session logged in as account ``name`` (its BotPassword), or anonymous for ``IP``."""
        if name.upper() == ANONYMOUS:
            return SandboxSession(self.api_url, None)
        for account in self.accounts:
            if account.name.lower() == name.lower():
                return SandboxSession(self.api_url, account)
        known = ", ".join(a.name for a in self.accounts)
        raise SandboxError(f"no sandbox account {name!r} (accounts: {known}; or {ANONYMOUS} for an anonymous edit)")


class SandboxSession:
    """A minimal Action API client: what these commands need and nothing more."""

    def __init__(self, api_url: str, account: Account | None) -> None:
        self.api_url = api_url
        self.account = account
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only: never through an environment proxy
        self.http.headers["User-Agent"] = USER_AGENT + " trial"
        if account is not None:
            token = self.call(meta="tokens", type="login")["query"]["tokens"]["logintoken"]
            result = self.call("POST", action="login", lgname=account.botpassword_login,
                               lgpassword=account.botpassword, lgtoken=token)["login"]
            if result.get("result") != "Success":
                raise SandboxError(f"cannot log in as {account.name}: {result}")

    @property
    def name(self) -> str:
        return self.account.name if self.account else ANONYMOUS

    def call(self, method: str = "GET", **params: Any) -> dict[str, Any]:
        params = {"action": "query", "format": "json", "formatversion": "2", **params}
        try:
            if method == "GET":
                resp = self.http.get(self.api_url, params=params, timeout=30)
            else:
                resp = self.http.post(self.api_url, data=params, timeout=30)
            resp.raise_for_status()
            data: dict[str, Any] = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise SandboxError(f"the sandbox wiki at {self.api_url} does not answer: {exc}") from exc
        if "error" in data:
            raise SandboxError(f"{data['error'].get('code')}: {data['error'].get('info')}")
        return data

    def text(self, title: str) -> str | None:
        page = self.call(prop="revisions", titles=title, rvprop="content", rvslots="main")["query"]["pages"][0]
        revisions = page.get("revisions") or []
        return str(revisions[0]["slots"]["main"]["content"]) if revisions else None

    def edit(self, title: str, **params: Any) -> int:
        token = "+\\" if self.account is None else self.call(meta="tokens")["query"]["tokens"]["csrftoken"]
        result = self.call("POST", action="edit", title=title, token=token, **params)["edit"]
        if result.get("result") != "Success" or "nochange" in result:
            raise SandboxError(f"edit of {title!r} as {self.name} saved nothing: {result}")
        return int(result["newrevid"])


def _wait(what: str, probe: Callable[[], T | None], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise SandboxError(f"gave up after {timeout:g} s waiting for {what} (is `automod run` running?)")
        time.sleep(0.5)


def _print(data: dict[str, Any]) -> int:
    print(json.dumps(data, ensure_ascii=False))
    return 0


# --------------------------------------------------------------------------- commands


def _cmd_seed(args: argparse.Namespace) -> int:
    from automod.sandbox.seed import seed

    trial = TrialWiki.load(args.dir)
    return _print(seed(trial.dir, trial.api_url, shutil.which("php") or "php").to_json())


def _cmd_config(args: argparse.Namespace) -> int:
    trial = TrialWiki.load(args.dir)
    try:
        config = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SandboxError(f"cannot read {args.file} as JSON: {exc}") from exc
    admin = trial.session("Admin")
    text = json.dumps(config, indent=2, ensure_ascii=False)
    if (admin.text(trial.config_page) or "").strip() == text.strip():
        return _print({"page": trial.config_page, "unchanged": True})
    rev = admin.edit(trial.config_page, text=text, summary=args.summary)
    return _print({"page": trial.config_page, "rev_id": rev})


def _cmd_edit(args: argparse.Namespace) -> int:
    session = TrialWiki.load(args.dir).session(args.as_user)
    if args.append is not None:
        rev = session.edit(args.page, appendtext="\n" + args.append, summary=args.summary)
    else:
        rev = session.edit(args.page, text=args.text, summary=args.summary)
    return _print({"page": args.page, "user": session.name, "rev_id": rev})


def _report_link(trial: TrialWiki, talk_text: str, rev_id: int) -> tuple[str, dict[str, Any]] | None:
    """The link on the talk page that opens a pre-filled report on revision ``rev_id`` on this sandbox."""
    own = urlsplit(trial.index_url)
    for url in reversed(_REPORT_LINK.findall(talk_text)):
        parts = urlsplit(url)  # wikitext, not HTML: no entity decoding ("&sect" would become §)
        params = parse_qsl(parts.query)
        keys = {k for k, _v in params}
        if ((parts.scheme, parts.netloc, parts.path) == (own.scheme, own.netloc, own.path)
                and keys <= {"title", "action", "section", "preload", "preloadtitle", "preloadparams[]"}
                and ("action", "edit") in params and ("section", "new") in params and "preload" in keys
                and ("preloadparams[]", str(rev_id)) in params):
            return parts.geturl(), dict(params)
    return None


def _edit_form(trial: TrialWiki, url: str) -> tuple[str, str]:
    """What the browser shows at ``url``: the text box and the subject line, pre-filled."""
    http = requests.Session()
    http.trust_env = False
    try:
        page = http.get(url, headers={"User-Agent": USER_AGENT + " trial"}, timeout=30).text
    except requests.RequestException as exc:
        raise SandboxError(f"cannot open {url}: {exc}") from exc
    box = re.search(r"<textarea[^>]*name=\"wpTextbox1\"[^>]*>(.*?)</textarea>", page, re.S)
    subject = re.search(r"<input[^>]*name=\"wpSummary\"[^>]*>", page)
    value = re.search(r"value=\"([^\"]*)\"", subject.group(0)) if subject else None
    if box is None:
        raise SandboxError(f"no edit form at {url}")
    return html.unescape(box.group(1)).lstrip("\n"), html.unescape(value.group(1)) if value else ""


def _cmd_report(args: argparse.Namespace) -> int:
    trial = TrialWiki.load(args.dir)
    reporter = trial.session(args.as_user)
    talk = f"User talk:{reporter.name}"
    contributions = reporter.call(list="usercontribs", ucuser=reporter.name, ucnamespace=0, uclimit=1,
                                  ucprop="ids")["query"]["usercontribs"]
    if not contributions:
        raise SandboxError(f"{reporter.name} has no article edit to report")
    latest = int(contributions[0]["revid"])

    def link() -> tuple[str, dict[str, Any]] | None:
        return _report_link(trial, reporter.text(talk) or "", latest)

    url, params = _wait(f"the bot's notice about r{latest} on {talk}", link, args.timeout)
    text, subject = _edit_form(trial, url)
    marker = "Why it was a good edit: "
    text = text.replace(marker, marker + args.reason, 1) if marker in text else f"{args.reason}\n\n{text}"
    rev = reporter.edit(params["title"], section="new", sectiontitle=subject or params.get("preloadtitle", ""),
                        text=text)
    return _print({"page": params["title"], "section": subject, "reporter": reporter.name, "rev_id": rev})


def _sections(session: SandboxSession, page: str) -> list[tuple[str, str]]:
    """``(index, wikitext)`` of every level-2 section of ``page``."""
    parsed = session.call(action="parse", page=page, prop="sections")["parse"]["sections"]
    out = []
    for section in parsed:
        if str(section.get("level")) == "2" and str(section.get("index", "")).isdigit():
            data = session.call(prop="revisions", titles=page, rvprop="content", rvslots="main",
                                rvsection=section["index"])
            out.append((str(section["index"]), str(data["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"])))
    return out


def _cmd_review(args: argparse.Namespace) -> int:
    trial = TrialWiki.load(args.dir)
    reviewer = trial.session(args.as_user)
    try:
        page = str(json.loads(reviewer.text(trial.config_page) or "{}")["false_positive_page"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(f"{trial.config_page} names no false_positive_page") from exc

    def open_report() -> tuple[str, str, int] | None:
        if reviewer.text(page) is None:
            return None
        for index, text in reversed(_sections(reviewer, page)):
            found = _BOT_LINE.search(text)
            if found:
                return index, text, int(found.group(2))
        return None

    index, text, rev_id = _wait(f"a report answered by the bot on {page}", open_report, args.timeout)
    reviewer.edit(page, section=index, text=_BOT_LINE.sub(rf"\g<1>{args.status}", text, count=1),
                  summary=f"report on r{rev_id}: {args.status}")
    result: dict[str, Any] = {"page": page, "rev_id": rev_id, "status": args.status, "reviewer": reviewer.name}
    if args.status == "confirmed":
        answer = re.compile(rf"automod — revision {rev_id}(?: reinstated|: the page was edited)")
        reply = _wait(f"the bot's answer to the confirmed report on r{rev_id}",
                      lambda: answer.search(reviewer.text(page) or ""), args.timeout)
        result["reinstated"] = "reinstated" in reply.group(0)
    return _print(result)


def register(sandbox_commands: Any) -> None:
    """Add the trial commands to ``automod sandbox``."""
    def command(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sandbox_commands.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--dir", type=Path, required=True, help="the sandbox's directory (as given to `up`)")
        parser.set_defaults(func=func)
        return parser

    command("seed", "Import a backdated history (articles, good edits, vandalism reverted by a patroller) to "
                    "train a local model on; does nothing on a wiki already seeded.", _cmd_seed)

    config = command("config", "Save a JSON file as the community config page, as Admin.", _cmd_config)
    config.add_argument("file", type=Path, metavar="FILE", help="the config as JSON (see config/*.json)")
    config.add_argument("--summary", default="automod trial: community config", help="edit summary")

    edit = command("edit", "Edit a page as one of the sandbox's accounts, or anonymously (--as IP).", _cmd_edit)
    edit.add_argument("--as", dest="as_user", required=True, metavar="ACCOUNT",
                      help="Admin, Patroller, Vandal1, Vandal2, or IP for an anonymous edit")
    edit.add_argument("--page", required=True, help="title of the page to edit")
    content = edit.add_mutually_exclusive_group(required=True)
    content.add_argument("--text", help="the page's new wikitext (replaces the whole page)")
    content.add_argument("--append", help="wikitext to add at the end of the page")
    edit.add_argument("--summary", default="", help="edit summary")

    report = command("report", "Follow the report link the bot's notice gives for your latest article edit "
                               "and save the pre-filled report, signed by you (as the browser would).", _cmd_report)
    report.add_argument("--as", dest="as_user", required=True, metavar="ACCOUNT",
                        help="the reverted editor whose talk page holds the notice (e.g. Vandal1)")
    report.add_argument("--reason", default="I think this edit was fine.",
                        help="what you would type after 'Why it was a good edit:'")
    report.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the bot's notice about that edit")

    review = command("review", "As a reviewer, set the status of the newest report the bot answered "
                               "(confirmed: the bot restores the edit).", _cmd_review)
    review.add_argument("--status", choices=["confirmed", "declined"], required=True,
                        help="confirmed (a false positive: the bot reinstates the edit) or declined")
    review.add_argument("--as", dest="as_user", default="Admin", metavar="ACCOUNT",
                        help="the reviewing account (default Admin)")
    review.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                        help="how long to wait for the bot's line under the report, and its answer")
