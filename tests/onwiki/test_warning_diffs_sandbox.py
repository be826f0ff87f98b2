"""Warning levels read from what each trusted revision changed, not from whole texts (issue 29),
on the real sandbox wiki: on a 200 KB talk page the levels' read stays a few KB, and finds the
same levels as before — a trusted patroller's 1–4 count, an IP's forged level does not, an old
warning outside the window does not."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from automod.config import parse_config
from automod.onwiki import exclusion_templates, warning_level
from automod.onwiki.revision_diffs import revision_diff
from support.answer_bytes import counting_answers
from support.api_log import backdate_revision
from support.patrol import LEVEL, page_text
from support.wiki import WikiClient

pytestmark = pytest.mark.sandbox

#: Bytes the levels' read may take, whatever the talk page weighs (it read ~1.2 MB here before).
BOUND = 20_000
PAD_KB = 200


def config(levels: int = 4):
    parsed = parse_config(json.dumps({"enabled": True, "mode": "log-only",
                                      "warnings": {"levels": levels, "window_days": 30}}),
                          ("revertrisk-language-agnostic",))
    assert parsed.config is not None, parsed
    return parsed.config


def append(client: WikiClient, title: str, text: str) -> int:
    result = client.post(action="edit", title=title, appendtext=text, summary="note", token=client.token())["edit"]
    assert result.get("result") == "Success", result
    return int(result["newrevid"])


def warning(level: int) -> str:
    return f"\n\n== Vandalism {uuid.uuid4().hex[:6]} ==\n<!-- Template:uw-vandalism{level} --> Please stop. ~~~~"


def padding(kb: int) -> str:
    line = "An old discussion about the shared school address, long settled, kept on the page. " * 4
    return "\n".join(f"{k}: {line}" for k in range(kb * 1024 // len(line) + 1))


def test_on_a_200_kb_talk_page_the_levels_read_stays_small_and_finds_the_same_levels(sandbox, wiki, gateway):
    admin, forger, owner = wiki(sandbox.admin), wiki(ip="198.51.100.71"), wiki(ip="198.51.100.72")
    user = f"2001:DB8:0:0:0:0:{uuid.uuid4().hex[:4].upper().lstrip('0') or '1'}:7"
    talk = f"User talk:{user}"
    # Two months ago a patroller gave a final warning and the page grew long: outside the window.
    old = [admin.edit(talk, "== Archive ==\n<!-- Template:uw-vandalism4 --> Long ago. ~~~~\n" + padding(PAD_KB // 2))]
    old.append(append(admin, talk, "\n" + padding(PAD_KB // 2)))
    for rev in old:
        backdate_revision(sandbox.dir, sandbox.wiki, rev, 60)
    # This month: a patroller's levels 1 to 3, the owner's chatter, an IP's forged final warning.
    append(admin, talk, warning(1))
    append(owner, talk, "\n:I share this address. ~~~~")
    append(admin, talk, warning(2))
    append(forger, talk, warning(4))
    append(admin, talk, warning(3))
    append(owner, talk, "\n:Still not me. ~~~~")
    text = page_text(admin, talk) or ""
    assert len(text.encode()) > PAD_KB * 1024
    assert LEVEL.findall(text) == ["4", "1", "2", "4", "3"]

    with counting_answers(gateway) as read:
        standing = warning_level(gateway, config(), user, time.time())
    assert standing.highest == 3, "the patroller's 3 counts; the IP's 4 and the 4 of two months ago do not"
    assert not standing.final_given
    assert read.total < BOUND, f"{read.total} bytes read for the levels of a {len(text) // 1024} KB page: {read}"

    append(admin, talk, warning(4))  # now a patroller gives the final warning
    with counting_answers(gateway) as read:
        standing = warning_level(gateway, config(), user, time.time())
    assert standing.highest == 4 and standing.final_given
    assert read.total < BOUND, f"{read.total} bytes read for the levels of a {len(text) // 1024} KB page: {read}"

    # With talk notices on, the current text the notice needs comes along in the same reads, whole.
    standing = warning_level(gateway, config(), user, time.time(),
                             talk_templates=exclusion_templates(gateway).titles)
    assert standing.highest == 4
    assert standing.talk is not None and standing.talk.text == page_text(admin, talk)


TEXT_LINES = st.lists(st.sampled_from([
    "", "plain line", "<!-- Template:uw-vandalism1 -->", "<!-- Template:uw-vandalism2 --> x &amp; <b>y</b>",
    "a <!-- Template:uw-vandalism3 --> b <!-- Template:uw-vandalism4 -->", "== Heading ==", "&lt;!-- not one --&gt;",
    "<td class=\"diff-addedline\"><!-- Template:uw-vandalism4 --></td>", "Zeile mit Ümlaut ~~~~"]), max_size=12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=TEXT_LINES, after=TEXT_LINES)
def test_the_levels_a_diff_shows_added_are_those_the_whole_texts_show(sandbox, wiki, gateway, before, after):
    """Moved, changed, repeated and escaped lines: the diff's added-minus-deleted levels are the
    whole texts' (the old reading), for every pair of texts, the page's first revision included."""
    admin = wiki(sandbox.admin)
    title = f"User talk:Automod diff {uuid.uuid4().hex[:10]}"
    first = admin.edit(title, "\n".join(before) or "start")
    second = admin.post(action="edit", title=title, text="\n".join(after) or "end", token=admin.token())["edit"]
    revs = admin.revisions(title, limit=2)
    texts = {int(r["revid"]): r["slots"]["main"]["content"] for r in revs}
    pairs = [(0, first)] + ([(first, int(second["newrevid"]))] if "newrevid" in second else [])
    for parent, rev in pairs:
        diff = revision_diff(gateway, parent, rev)
        assert diff is not None
        whole = Counter(LEVEL.findall(texts[rev])) - Counter(LEVEL.findall(texts.get(parent, "")))
        assert Counter(LEVEL.findall(diff.added)) - Counter(LEVEL.findall(diff.deleted)) == whole, (parent, rev)
