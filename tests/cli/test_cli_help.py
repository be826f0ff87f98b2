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
