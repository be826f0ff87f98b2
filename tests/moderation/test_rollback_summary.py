"""Issue 26.8b: the rollback summary's ``$1``…``$6`` are filled in one pass over the template:
a value someone typed (a user name, a title) is never read as a placeholder itself."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from automod.moderation.rollback import render_summary
from automod.onwiki.i18n import load_messages

DEFAULT = load_messages().text("automod-rollback-summary")


def summary_for(user: str, title: str = "Riverford", template: str = DEFAULT) -> str:
    return render_summary(template, title=title, user=user, probability=0.995, model="revertrisk-language-agnostic",
                          report_page="Project:Automod/False positives", rev_id=1234)


def test_a_user_name_holding_a_placeholder_keeps_it_as_typed():
    text = summary_for("Evil$1$5")
    assert "Evil$1$5" in text and "Riverford" not in text and "EvilRiverford" not in text
    assert text.count("Project:Automod/False positives") == 1  # only where the template puts it
    # A community template naming the title: the title's own "$2" is not the user name either.
    custom = summary_for("Someone", title="Price $2 list", template="Revert on [[$1]] by $2 ($6)")
    assert custom == "Revert on [[Price $2 list]] by Someone (1234)"


def test_summary_markup_in_a_title_is_broken_so_it_shows_as_typed():
    text = summary_for("Someone", title="A /* fake section */ [[Link]]", template="Revert on $1 by $2")
    assert "/*" not in text and "*/" not in text and "[[" not in text and "]]" not in text
    assert text.replace("\u200b", "") == "Revert on A /* fake section */ [[Link]] by Someone"


@given(st.text(alphabet=st.sampled_from("$123456789ab{}|:/*[]"), max_size=20))
def test_no_user_name_changes_anything_but_its_own_place(name: str):
    text = summary_for(name, template="by $2 on $1")
    assert text.replace("\u200b", "") == f"by {name} on Riverford"
