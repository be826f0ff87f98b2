"""Library functions that do, on a sandbox, what a newcomer's trial would do in a browser.

:func:`seed_sandbox` (a backdated history to train on), :func:`save_config` (save the
community config page as Admin), :func:`edit_as` (edit as one of the sandbox's accounts or
as an IP), :func:`file_report` (follow the report link of the bot's notice on a talk page,
as that user, and save the pre-filled section as the browser would: the preload text with
its ``~~~~``, so MediaWiki signs it with the reporter's name) and :func:`review_report` (a
reviewer changing ``status: open`` under a report). Each returns a JSON-able dict of what
it did. They log in with the accounts ``sandbox up`` created, read from the sandbox's
directory, and talk to the sandbox wiki only (loopback).

The ``automod sandbox seed|config|edit|report|review`` commands (:mod:`automod.cli.sandbox`)
are thin wrappers that print these dicts.

Talk pages and the report page are editable by anyone: ``report`` only follows a link to
this sandbox's own ``index.php`` with the preload parameters MediaWiki knows, and the
waits here are bounded.
"""

from __future__ import annotations

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
from automod.onwiki.i18n import DEFAULT_LANGUAGE, Messages, load_messages
from automod.sandbox.accounts import Account
from automod.sandbox.mediawiki import STATE_FILE, USER_AGENT

__all__ = ["REVIEW_STATUSES", "SandboxSession", "TrialWiki", "edit_as", "file_report", "review_report",
           "save_config", "seed_sandbox"]

T = TypeVar("T")
ANONYMOUS = "IP"
REVIEW_STATUSES = ("confirmed", "declined")  # what a reviewer sets ``status: open`` to
_REPORT_LINK = re.compile(r"\[(https?://[^\s\]]+)[ \]]")
# The bot's line under a report, in any language: "automod — <revision> N … status: open"
# (automod-report-line; the status codes are never translated).
_BOT_LINE = re.compile(r"(automod — \D*?(\d+)\b.*?status:\s*)open\b")
#: The bot's answers to a confirmed report: message key → whether the edit was reinstated.
_ANSWERS = {"automod-report-reinstated": True, "automod-report-page-changed": False,
            "automod-reinstate-refused": False, "automod-report-status-ignored": False}


@dataclass(frozen=True)
class TrialWiki:
    """One wiki of a sandbox (the first unless named), as ``sandbox up`` wrote it under DIR."""

    dir: Path
    api_url: str
    config_page: str
    accounts: tuple[Account, ...]
    name: str = "sandboxwiki"

    @classmethod
    def load(cls, dir: Path, wiki_name: str | None = None) -> TrialWiki:
        """The wiki ``wiki_name`` of the sandbox at ``dir`` (default: its first wiki)."""
        root = Path(dir).expanduser().resolve()
        try:
            settings = yaml.safe_load((root / "settings.yaml").read_text())
            state = json.loads((root / STATE_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise SandboxError(f"no sandbox in {root} (run `automod sandbox up --dir {dir}` first): {exc}") from exc
        wikis = settings["wikis"]
        wiki = wikis[0] if wiki_name is None else next((w for w in wikis if w.get("name") == wiki_name), None)
        if wiki is None:
            known = ", ".join(str(w.get("name")) for w in wikis)
            raise SandboxError(f"no wiki {wiki_name!r} in the sandbox at {root} (wikis: {known})")
        accounts = tuple(Account.from_state(a) for a in state["accounts"].values())
        return cls(root, str(wiki["api"]), str(wiki["config_page"]), accounts, str(wiki.get("name", "sandboxwiki")))

    @property
    def index_url(self) -> str:
        return self.api_url.rsplit("/", 1)[0] + "/index.php"

    def wiki_names(self) -> list[str]:
        """Every wiki of this sandbox, first one first (as ``sandbox up`` listed them)."""
        settings = yaml.safe_load((self.dir / "settings.yaml").read_text())
        return [str(w.get("name")) for w in settings["wikis"]]

    def messages(self) -> Messages:
        """The messages the bot writes on this wiki: its content language's (siteinfo), English last."""
        general = SandboxSession(self.api_url, None).call(meta="siteinfo", siprop="general")["query"]["general"]
        fallbacks = [str(f.get("code", "")) for f in general.get("fallback", []) if isinstance(f, dict)]
        return load_messages(str(general.get("lang") or DEFAULT_LANGUAGE), fallbacks)

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


# --------------------------------------------------------------------------- trial steps


def seed_sandbox(dir: Path | str) -> dict[str, Any]:
    """Import a backdated history to train on into every wiki of the sandbox at ``dir``
    (nothing into a wiki already seeded).

    Returns the first wiki's :meth:`automod.sandbox.seed.SeedResult.to_json`: ``already_seeded``,
    ``pages``, ``revisions``, ``vandal_edits``, ``first``, ``last`` and ``seconds``; with several
    wikis also ``wikis``: each wiki's result by name (the first included).
    """
    from automod.sandbox.instances import wiki_root
    from automod.sandbox.seed import seed

    first = TrialWiki.load(Path(dir))
    php = shutil.which("php") or "php"
    results: dict[str, dict[str, Any]] = {}
    for name in first.wiki_names():
        trial = TrialWiki.load(first.dir, name)
        results[name] = seed(wiki_root(trial.dir, name), trial.api_url, php).to_json()
    result = dict(results[first.name])
    if len(results) > 1:
        result["wikis"] = results
    return result


def save_config(dir: Path | str, file: Path | str, summary: str, wiki: str | None = None,
                page: str | None = None) -> dict[str, Any]:
    """Save the JSON file ``file`` on the sandbox at ``dir``, as Admin: on ``wiki`` (default:
    the first wiki), as ``page`` (default: its community config page; e.g. the central one).

    The JSON is re-indented before saving; when the page already holds that value nothing is
    saved. Returns ``{"wiki", "page", "rev_id"}``, or ``{"wiki", "page", "unchanged": True}``.
    Raises :class:`SandboxError` when ``file`` is not readable JSON or ``wiki`` is unknown.
    """
    trial = TrialWiki.load(Path(dir), wiki)
    title = page or trial.config_page
    try:
        config = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SandboxError(f"cannot read {file} as JSON: {exc}") from exc
    admin = trial.session("Admin")
    text = json.dumps(config, indent=2, ensure_ascii=False)
    where = {"wiki": trial.name, "page": title}
    if _same_json(admin.text(title), config):  # MediaWiki re-indents a JSON page: compare values
        return {**where, "unchanged": True}
    rev = admin.edit(title, text=text, summary=summary)
    return {**where, "rev_id": rev}


def _same_json(current: str | None, config: Any) -> bool:
    try:
        return current is not None and bool(json.loads(current) == config)
    except ValueError:
        return False


def edit_as(dir: Path | str, as_user: str, page: str, text: str | None, append: str | None,
            summary: str, wiki: str | None = None) -> dict[str, Any]:
    """Edit ``page`` on the sandbox at ``dir`` as account ``as_user`` (or anonymously for ``IP``).

    Give exactly one of ``text`` (the page's new wikitext, replacing the whole page) and
    ``append`` (wikitext added on a new line at the end of the page).
    Returns ``{"page", "user", "rev_id"}``.
    """
    if (text is None) == (append is None):
        raise ValueError("give exactly one of text and append")
    trial = TrialWiki.load(Path(dir), wiki)
    session = trial.session(as_user)
    if append is not None:
        rev = session.edit(page, appendtext="\n" + append, summary=summary)
    else:
        rev = session.edit(page, text=text, summary=summary)
    return {"wiki": trial.name, "page": page, "user": session.name, "rev_id": rev}


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
    box = re.search(r"<textarea[^>]*name=[\"']wpTextbox1[\"'][^>]*>(.*?)</textarea>", page, re.S)
    subject = re.search(r"<input[^>]*name=[\"']wpSummary[\"'][^>]*>", page)
    value = re.search(r"value=(?:\"([^\"]*)\"|'([^']*)')", subject.group(0)) if subject else None
    if box is None:
        raise SandboxError(f"no edit form at {url}")
    return html.unescape(box.group(1)).lstrip("\n"), html.unescape(value.group(1) or value.group(2)) if value else ""


def file_report(dir: Path | str, as_user: str, reason: str, timeout: float) -> dict[str, Any]:
    """As ``as_user``, report the bot's revert of their latest article edit, as the browser would.

    Waits up to ``timeout`` seconds for the bot's notice about that edit on the user's talk
    page, follows its report link (only to this sandbox's own ``index.php``), types
    ``reason`` after the preload's prompt ("Why it was a good edit:", in the wiki's language)
    in the pre-filled text and saves the new
    section, which MediaWiki signs. Returns ``{"page", "section", "reporter", "rev_id"}``.
    Raises :class:`SandboxError` when the user has no article edit or the notice never comes.
    """
    trial = TrialWiki.load(Path(dir))
    reporter = trial.session(as_user)
    talk = f"User talk:{reporter.name}"
    contributions = reporter.call(list="usercontribs", ucuser=reporter.name, ucnamespace=0, uclimit=1,
                                  ucprop="ids")["query"]["usercontribs"]
    if not contributions:
        raise SandboxError(f"{reporter.name} has no article edit to report")
    latest = int(contributions[0]["revid"])

    def link() -> tuple[str, dict[str, Any]] | None:
        return _report_link(trial, reporter.text(talk) or "", latest)

    url, params = _wait(f"the bot's notice about r{latest} on {talk}", link, timeout)
    text, subject = _edit_form(trial, url)
    text = with_reason(text, reason, (trial.messages(), load_messages(DEFAULT_LANGUAGE)))
    subject = subject or str(params.get("preloadtitle", ""))
    rev = reporter.edit(params["title"], section="new", sectiontitle=subject, text=text)
    return {"page": params["title"], "section": subject, "reporter": reporter.name, "rev_id": rev}


def reason_prompt(messages: Messages) -> str:
    """The prompt the reason goes after: the last paragraph of the preload ("Why it was a good edit:")."""
    return messages.text("automod-report-preload").rsplit("\n\n", 1)[-1].strip()


def with_reason(text: str, reason: str, languages: tuple[Messages, ...]) -> str:
    """The pre-filled report ``text`` with ``reason`` typed where it asks for it.

    After the prompt of the first of ``languages`` found in the text (the wiki's, then
    English); without any prompt, just above the signature to come, so the reason never
    lands above the preloaded lines.
    """
    for messages in languages:
        prompt = reason_prompt(messages)
        found = re.search(re.escape(prompt) + r"[ \t]*", text)
        if prompt and found:
            return f"{text[:found.start()]}{prompt} {reason}{text[found.end():]}"
    signature = text.rfind("~~~~")
    if signature < 0:
        return f"{text.rstrip()}\n\n{reason}\n"
    return f"{text[:signature].rstrip()}\n\n{reason}\n\n{text[signature:]}"


def answer_pattern(template: str, rev_id: int) -> re.Pattern[str]:
    """The bot's answer from message ``template`` about revision ``rev_id``: ``$1`` is the
    revision, any other parameter matches anything on the line."""
    pieces = re.split(r"\$(\d+)", template)
    regex = "".join(re.escape(piece) if i % 2 == 0 else (str(rev_id) + r"\b" if piece == "1" else ".*?")
                    for i, piece in enumerate(pieces))
    return re.compile(regex)


def _sections(session: SandboxSession, page: str) -> list[tuple[str, str]]:
    """``(index, wikitext)`` of every level-2 section of ``page``."""
    parsed = session.call(action="parse", page=page, prop="sections")["parse"]["sections"]
    out = []
    for section in parsed:
        if str(section.get("level")) == "2" and str(section.get("index", "")).isdigit():
            data = session.call(prop="revisions", titles=page, rvprop="content", rvslots="main",
                                rvsection=section["index"])
            content = data["query"]["pages"][0]["revisions"][0]["slots"]["main"]["content"]
            out.append((str(section["index"]), str(content)))
    return out


def review_report(dir: Path | str, status: str, as_user: str, timeout: float) -> dict[str, Any]:
    """As reviewer ``as_user``, set ``status`` (``confirmed`` or ``declined``) on the newest report.

    Waits up to ``timeout`` seconds for a report on the config's ``false_positive_page`` that
    the bot answered with ``status: open``, replaces ``open`` with ``status``, and for
    ``confirmed`` waits (again up to ``timeout``) for the bot's answer. Returns
    ``{"page", "rev_id", "status", "reviewer"}``, plus ``"reinstated"`` for ``confirmed``.
    """
    if status not in REVIEW_STATUSES:
        raise ValueError(f"status must be one of {', '.join(REVIEW_STATUSES)}, not {status!r}")
    trial = TrialWiki.load(Path(dir))
    reviewer = trial.session(as_user)
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

    index, text, rev_id = _wait(f"a report answered by the bot on {page}", open_report, timeout)
    reviewer.edit(page, section=index, text=_BOT_LINE.sub(rf"\g<1>{status}", text, count=1),
                  summary=f"report on r{rev_id}: {status}")
    result: dict[str, Any] = {"page": page, "rev_id": rev_id, "status": status, "reviewer": reviewer.name}
    if status == "confirmed":
        answers = [(answer_pattern(messages.text(key), rev_id), reinstated)
                   for messages in (trial.messages(), load_messages(DEFAULT_LANGUAGE))
                   for key, reinstated in _ANSWERS.items()]

        def answered() -> bool | None:
            current = reviewer.text(page) or ""
            return next((reinstated for pattern, reinstated in answers if pattern.search(current)), None)

        result["reinstated"] = _wait(f"the bot's answer to the confirmed report on r{rev_id}", answered, timeout)
    return result

