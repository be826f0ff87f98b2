"""A report page's answers read by page (issue 29): a pass reads the answers about its own page,
not every answer the bot ever wrote on any page, which grow with its lifetime."""

from __future__ import annotations

import json

from automod.store import Store


def test_actions_about_one_page_leave_out_other_pages_and_malformed_details(tmp_path):
    with Store(tmp_path / "automod.sqlite") as store:
        for i in range(300):  # an old, long-archived page's answers
            store.record_action("enwiki", i, "report-line", "done", None,
                                json.dumps({"page": "Project:FP/Archive 1", "section": f"R{i}#1"}))
        here = json.dumps({"page": "Project:FP", "section": "A#1"})
        store.record_action("enwiki", 1, "report-line", "done", None, here)
        store.record_action("enwiki", 2, "report-line", "done", None, "not json {")
        store.record_action("enwiki", 3, "report-line", "done", None, json.dumps(["Project:FP"]))
        store.record_action("dewiki", 4, "report-line", "done", None, here)
        store.record_action("enwiki", 5, "rollback", "done", None, json.dumps({"page": "Project:FP"}))
        found = store.actions_of_kinds("enwiki", ("report-line",), page="Project:FP")
        assert [(a.rev_id, json.loads(a.detail or "{}")["section"]) for a in found] == [(1, "A#1")]
        assert len(store.actions_of_kinds("enwiki", ("report-line",))) == 303  # without a page: all of them
