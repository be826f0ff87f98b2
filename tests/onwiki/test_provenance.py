"""Provenance over page histories, without a wiki: a revert authors nothing, a move brings
no trust, text older than the history read belongs to nobody (issue 26)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from automod.onwiki.provenance import Author, PageRevision, authors_of, line_authors, trusted_value

OPEN = ": automod — revision 7 · status: open ~~~~"
CONFIRMED = ": automod — revision 7 · status: confirmed ~~~~"


def rev(rev_id: int, user: str, text: str, parent: int | None = None, tags: tuple[str, ...] = ()) -> PageRevision:
    return PageRevision(rev_id, user, text, parent=rev_id - 1 if parent is None else parent, tags=frozenset(tags))


def confirmed(text: str) -> int:
    return text.count("status: confirmed")


def laundered_history(restore_tags: tuple[str, ...]) -> list[PageRevision]:
    return [rev(1, "Admin", "Reports.", parent=0),
            rev(2, "AutomodBot", f"Reports.\n== A ==\n{OPEN}"),
            rev(3, "198.51.100.7", f"Reports.\n== A ==\n{CONFIRMED}"),
            rev(4, "198.51.100.8", ""),
            rev(5, "Admin", f"Reports.\n== A ==\n{CONFIRMED}", tags=restore_tags)]


def test_an_admin_rolling_back_a_blanking_does_not_sign_the_forged_line_it_brings_back():
    for tags in (("mw-rollback",), ("mw-undo",), ()):  # untagged: the same text as r3 is a revert too
        found = authors_of(laundered_history(tags), confirmed)
        assert [a.author for a in found] == [Author(3, "198.51.100.7")], tags


def test_a_reviewers_own_change_of_the_line_is_theirs_and_kept_through_later_edits():
    history = [rev(1, "Admin", "Reports.", parent=0), rev(2, "AutomodBot", f"Reports.\n== A ==\n{OPEN}"),
               rev(3, "Admin", f"Reports.\n== A ==\n{CONFIRMED}"),
               rev(4, "198.51.100.7", f"Reports.\n== A ==\n{CONFIRMED}\nI agree. ~~~~"),
               rev(5, "198.51.100.8", f"Intro moved.\n== A ==\n{CONFIRMED}\nI agree. ~~~~\nReports.")]
    assert [a.author for a in authors_of(history, confirmed)] == [Author(3, "Admin")]


def test_a_move_null_revision_and_a_partial_undo_author_nothing():
    history = [rev(1, "Vandal1", "Old line.", parent=0), rev(2, "Admin", "Old line.\nTrusted line."),
               rev(3, "Vandal1", "Old line.\nTrusted line.\nForged status: confirmed"),
               rev(4, "Mover", "Old line.\nTrusted line.\nForged status: confirmed"),  # the move's null revision
               rev(5, "Vandal1", "Trusted line.\nForged status: confirmed"),
               rev(6, "Admin", "Old line.\nTrusted line.\nForged status: confirmed", tags=("mw-undo",))]
    by_line = {a.line: a.author for a in line_authors(history)}
    assert by_line == {"Old line.": Author(1, "Vandal1"), "Trusted line.": Author(2, "Admin"),
                       "Forged status: confirmed": Author(3, "Vandal1")}


def test_text_older_than_the_history_read_or_hidden_belongs_to_nobody():
    window = [rev(40, "Admin", "Forged status: confirmed", parent=39),
              rev(41, "Admin", "Forged status: confirmed\nMore")]
    assert {a.line: a.author for a in line_authors(window)} == {"Forged status: confirmed": None,
                                                                "More": Author(41, "Admin")}
    hidden = [rev(1, "Admin", "A", parent=0), PageRevision(2, "Vandal1", "", parent=1, hidden=True),
              rev(3, "Admin", "A\nB")]
    assert {a.line: a.author for a in line_authors(hidden)} == {"A": None, "B": None}
    restored = [rev(1, "Admin", "A", parent=0), rev(2, "Vandal1", ""), rev(3, "Admin", "A\nC", tags=("mw-undo",))]
    assert {a.line: a.author for a in line_authors(restored)} == {"A": Author(1, "Admin"), "C": None}


def test_the_trusted_value_of_a_part_skips_untrusted_changes_and_follows_trusted_restores():
    head = lambda text: text.split("==", 1)[0]  # noqa: E731
    trusted = {"Admin", "AutomodBot"}.__contains__
    history = [rev(1, "Admin", "Header.\n== A ==", parent=0), rev(2, "198.51.100.7", "Evil header.\n== A =="),
               rev(3, "Admin", "Evil header.\n== A ==\nmore"), rev(4, "198.51.100.7", "== A ==\nmore")]
    assert trusted_value(history, head, trusted) == "Header.\n"
    history.append(rev(5, "Admin", "Header.\n== A ==\nmore", tags=("mw-rollback",)))
    assert trusted_value(history, head, trusted) == "Header.\n"
    history.append(rev(6, "Admin", "New header.\n== A ==\nmore"))
    assert trusted_value(history, head, trusted) == "New header.\n"
    # a trusted user's revert to a value only an untrusted hand ever set: not trusted
    history.append(rev(7, "198.51.100.7", "Evil header.\n== A ==\nmore"))
    history.append(rev(8, "Admin", "Evil header.\n== A ==\nmore", tags=("mw-manual-revert",)))
    assert trusted_value(history, head, trusted) == "New header.\n"
    assert trusted_value([rev(1, "198.51.100.7", "Evil.", parent=0)], head, trusted) is None


users = st.sampled_from(["Admin", "Vandal1", "198.51.100.7", "203.0.113.9"])
line_pool = st.sampled_from(["a", "b", CONFIRMED, OPEN, "", "== A =="])
edits = st.lists(st.tuples(users, st.lists(line_pool, max_size=6), st.booleans()), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(edits)
def test_every_credited_line_was_written_by_that_revision_and_no_revert_is_ever_credited(steps):
    """Whatever the history: a line is credited only to an ordinary (not restoring) revision
    that holds it, saved by the user named; and the admin's reverts are never credited."""
    history, texts = [], []
    for i, (user, lines, tagged) in enumerate(steps, start=1):
        text = "\n".join(lines)
        history.append(rev(i, user, text, parent=0 if i == 1 else i - 1, tags=("mw-rollback",) if tagged else ()))
        texts.append(text)
    by_id = {r.rev_id: r for r in history}
    for found in line_authors(history):
        if found.author is None:
            continue
        origin = by_id[found.author.rev_id]
        assert origin.user == found.author.user
        assert found.line in origin.text.split("\n")
        assert not origin.tags, "a tagged revert was credited with text"
        assert origin.text not in texts[:origin.rev_id - 1], "a revision restoring an earlier text was credited"
