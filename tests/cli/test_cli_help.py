"""Every option of every ``automod`` command explains itself in ``--help``.

A newcomer reads ``automod COMMAND --help`` before anything else; an option listed there
without a word about what it does sends them to the source.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from automod.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, path: str = "automod") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Every parser in the tree, with the command line that reaches it."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, f"{path} {name}")


def _options_without_help(parser: argparse.ArgumentParser) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
            missing.append("/".join(action.option_strings) or action.dest)
    return missing


def test_every_option_of_every_command_has_help_text() -> None:
    commands = dict(_commands(build_parser()))
    assert {"automod run", "automod reports", "automod thresholds", "automod stats", "automod train",
            "automod sandbox up"} <= set(commands)  # the walk reaches nested sub-commands
    missing = {path: names for path, parser in commands.items() if (names := _options_without_help(parser))}
    assert missing == {}, f"options without help text: {missing}"


def test_every_sub_command_has_a_summary_in_its_parent_help() -> None:
    unexplained = []
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                described = {choice.dest for choice in action._choices_actions if (choice.help or "").strip()}
                unexplained += [f"{path} {name}" for name in action.choices if name not in described]
    assert unexplained == []


def test_help_of_a_command_shows_the_text_of_its_options(capsys) -> None:
    try:
        main(["reports", "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    text = capsys.readouterr().out
    assert "--status" in text and "reinstated" in text and "operator settings" in text


def test_every_command_has_a_description_in_its_own_help() -> None:
    """``automod COMMAND --help`` opens with a line saying what the command does, not only its usage."""
    undescribed = [path for path, parser in _commands(build_parser()) if not (parser.description or "").strip()]
    assert undescribed == []


def _help_of(capsys, *argv: str) -> str:
    try:
        main([*argv, "--help"])
    except SystemExit as exit_:
        assert exit_.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps lines: compare words


def test_train_help_counts_the_features_the_model_really_uses(capsys) -> None:
    from automod.scoring import FEATURE_NAMES

    assert len(FEATURE_NAMES) > 26  # the 26 of Lift Wing's model, then the editor and content signals
    assert f"xgboost on {len(FEATURE_NAMES)} features" in _help_of(capsys, "train")


def test_options_that_were_unclear_now_say_what_they_take(capsys) -> None:
    features = _help_of(capsys, "features")
    assert "--old FILE" in features and "before the edit" in features and "text file" in features
    assert "after the edit" in features
    edit = _help_of(capsys, "sandbox", "edit")
    assert "the word IP" in edit and "Vandal1" in edit
    export = _help_of(capsys, "export")
    assert "meta.stream" in export and "EventGate" in export and "POST" in export
    backtest = _help_of(capsys, "backtest")
    assert "caught up" in backtest and "what became of each edit" in backtest and "resumes" in backtest
    assert "how many wikis to run" in _help_of(capsys, "sandbox", "up")
