"""A labelled dataset from a MediaWiki XML dump with full histories (``--from-dump FILE``).

Reads ``dumpBackup.php --full`` output or Wikimedia's ``pages-meta-history`` files (plain,
``.bz2`` or ``.gz``) with ``mwxml``, page by page, reducing each text to counts at once.
Labels come from the same function as for the API (:mod:`automod.training.labels`); dumps
carry no change tags, so only identity reverts are seen there.

What a dump does not say, and what we use instead (written into the model card):

- editors' edit counts: the editor's revisions in the dump up to this one (all namespaces);
- registration: the editor's first revision in the dump;
- groups: none (``user_groups`` is 0 for everyone); bots: names ending in "bot";
- namespace aliases: the dump's own namespace names plus MediaWiki's canonical ones.
"""

from __future__ import annotations

import bz2
import gzip
import logging
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from automod.errors import AutomodError
from automod.scoring import NamespaceNames, UserInfo, text_counts
from automod.training.dataset import (
    BOT_NAME,
    Dataset,
    EditRecord,
    PageRevision,
    TextExtractor,
    page_records,
)
from automod.training.progress import Progress

__all__ = ["DumpError", "dataset_from_dump"]

log = logging.getLogger("automod.training.from_dump")

EARLIEST = datetime(2001, 1, 1, tzinfo=UTC)


class DumpError(AutomodError):
    """The dump file cannot be read as a MediaWiki XML dump."""


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    try:
        if path.suffix == ".bz2":
            fh: IO[bytes] = bz2.open(path, "rb")
        elif path.suffix == ".gz":
            fh = gzip.open(path, "rb")  # type: ignore[assignment]  # a GzipFile reads bytes; typeshed: not an IO
        else:
            fh = path.open("rb")
    except OSError as exc:
        raise DumpError(f"cannot open dump {path}: {exc}") from exc
    try:
        yield fh
    finally:
        fh.close()


def _moment(timestamp: Any) -> datetime:
    return datetime.fromtimestamp(int(timestamp.unix()), UTC)


def _names(dump: Any) -> NamespaceNames:
    namespaces = (dump.site_info.namespaces or []) if dump.site_info else []
    by_id: dict[int, list[str]] = defaultdict(list)
    for ns in namespaces:
        by_id[int(ns.id)].extend(n for n in (ns.name, getattr(ns, "canonical", None)) if n)
    return NamespaceNames.from_names(category=by_id[14], media=by_id[6] + by_id[-2])


def _revisions(page: Any, names: NamespaceNames, edits: dict[str, list[datetime]],
               keep_text: bool) -> list[PageRevision]:
    out: list[PageRevision] = []
    previous = 0
    for rev in page:
        moment = _moment(rev.timestamp)
        user = rev.user.text if rev.user is not None and rev.user.text else ""
        if user:
            edits[user].append(moment)
        text = rev.text if isinstance(rev.text, str) else None
        out.append(PageRevision(
            rev_id=int(rev.id), parent_id=int(rev.parent_id or previous), timestamp=moment, user=user,
            anonymous=rev.user is None or not rev.user.id, sha1=rev.sha1 or None,
            bytes=int(rev.bytes if rev.bytes is not None else len((text or "").encode("utf-8"))),
            comment=str(rev.comment or ""), counts=text_counts(text, names) if text is not None else None,
            text=text if keep_text else None))
        previous = int(rev.id)
    out.sort(key=lambda r: (r.timestamp, r.rev_id))
    return out


def dataset_from_dump(path: Path, wiki: str, days: float | None = None, *, show_progress: bool = True,
                      extract: TextExtractor | None = None, lang: str = "en") -> Dataset:
    """Return the labelled namespace-0 edits in the dump at ``path``.

    With ``days``, only edits in the last ``days`` days before the dump's newest revision.
    With ``extract``, each record also gets its text fragments (one page's texts in memory
    at a time). Raises :class:`DumpError` for unreadable files.
    """
    import mwxml
    import mwxml.errors

    path = Path(path)
    edits: dict[str, list[datetime]] = defaultdict(list)
    records: list[EditRecord] = []
    newest = EARLIEST
    with _open(path) as fh, Progress(f"reading {path.name}", None, enabled=show_progress) as bar:
        try:
            dump = mwxml.Dump.from_file(fh)
            names = _names(dump)
            for page in dump:
                history = _revisions(page, names, edits, keep_text=page.namespace == 0)
                bar.update()
                if history:
                    newest = max(newest, history[-1].timestamp)
                if page.namespace != 0:
                    continue
                records.extend(page_records(int(page.id), str(page.title), history, start=EARLIEST,
                                            end=datetime.max.replace(tzinfo=UTC),
                                            is_bot=lambda name: bool(BOT_NAME.search(name)), extract=extract,
                                            lang=lang))
        except (mwxml.errors.MalformedXML, ValueError, KeyError, AttributeError, SyntaxError) as exc:
            # (ElementTree's ParseError is a SyntaxError)
            raise DumpError(f"{path} is not a readable MediaWiki XML dump: {exc}") from exc
    if days is not None:
        start = newest - timedelta(days=days)
        records = [r for r in records if r.revision.timestamp >= start]
    else:
        start = min((r.revision.timestamp for r in records), default=newest)
    for times in edits.values():
        times.sort()

    def user_info(record: EditRecord) -> UserInfo:
        if record.anonymous:
            return UserInfo(name=record.user, anonymous=True)
        times = edits.get(record.user) or [record.revision.timestamp]
        return UserInfo(name=record.user, anonymous=False,
                        edit_count=bisect_right(times, record.revision.timestamp), registration=times[0])

    log.info("%s: %d labelled edits from %s", wiki, len(records), path)
    return Dataset(wiki=wiki, source=f"dump: {path.name}", start=start, end=newest,
                   records=records, user_info=user_info,
                   notes=("dump: edit counts and registration are derived from the dump itself; no user groups; "
                          "bots recognised by names ending in 'bot'; no change tags (identity reverts only)",))
