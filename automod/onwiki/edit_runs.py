"""The run of consecutive edits an editor's revision ends, read from the page's history.

A revert "of one's own edit" is only that when the text it saves is exactly the text before
the editor's own run of edits began (sha1 against sha1, as the wiki computes them): restoring
any older revision — say, one a vandal wrote weeks ago — is new content and is scored.
"""

from __future__ import annotations

from automod.onwiki.gateway import WikiGateway
from automod.onwiki.report_trust import same_user

__all__ = ["RUN_LIMIT", "restores_text_before_run"]

#: Revisions read back from the edit; a longer run of one editor's edits is not looked through.
RUN_LIMIT = 50


def restores_text_before_run(gateway: WikiGateway, title: str, rev_id: int, user: str) -> bool:
    """Whether revision ``rev_id`` by ``user`` saves exactly the text of the revision just
    before ``user``'s consecutive run of edits on ``title`` (which ``rev_id`` ends). False when
    the history does not show that revision within :data:`RUN_LIMIT` revisions, a sha1 is
    hidden, or the page has no revision before the run."""
    data = gateway.query(titles=title, prop="revisions", rvstartid=rev_id, rvdir="older",
                         rvprop="ids|user|sha1", rvlimit=RUN_LIMIT)
    pages = data["query"].get("pages") or [{}]
    revisions = pages[0].get("revisions", []) if "missing" not in pages[0] else []
    if not revisions or int(revisions[0].get("revid", 0)) != rev_id:
        return False
    restored = revisions[0].get("sha1")
    for revision in revisions[1:]:
        if revision.get("userhidden") or "user" not in revision:
            return False
        if not same_user(revision["user"], user):
            before = revision.get("sha1")
            return bool(restored) and not revision.get("sha1hidden") and restored == before
    return False
