"""``automod features`` and ``automod train``: local language-agnostic models.

Registered into the ``automod`` command by :mod:`automod.cli`. Heavy imports (xgboost,
mwxml) happen inside the commands, so the bot itself starts without them.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from automod.errors import AutomodError, ConfigError

__all__ = ["features_of_files", "register"]

log = logging.getLogger("automod.cli_models")

USER_AGENT = "automod-features/0.1 (https://www.mediawiki.org/wiki/Moderator_Tools/Automoderator)"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _siteinfo_from_api(api: str) -> dict[str, Any]:
    import requests

    try:
        resp = requests.get(api, params={"action": "query", "meta": "siteinfo", "format": "json",
                                         "formatversion": 2, "siprop": "namespaces|namespacealiases"},
                            headers={"User-Agent": USER_AGENT}, timeout=10)
        resp.raise_for_status()
        return dict(resp.json().get("query", {}))
    except (requests.RequestException, ValueError) as exc:
        raise AutomodError(f"cannot read namespace names from {api}: {exc}") from exc


def features_of_files(old: Path, new: Path, *, lang: str | None = None, api: str | None = None,
                      siteinfo: Path | None = None) -> dict[str, float]:
    """The 17 wikitext-derived features of the edit ``old`` → ``new`` (two wikitext files).

    Namespace names come from ``siteinfo`` (a saved ``meta=siteinfo`` answer), else from
    the wiki at ``api``, else from the ``lang`` Wikipedia's API; with none of them, only
    MediaWiki's canonical names (Category, File, Image, Media) are recognised.
    """
    from automod.scoring.features import NamespaceNames, text_counts, text_features

    names = NamespaceNames()
    if siteinfo is not None:
        try:
            data = json.loads(_read(siteinfo))
        except ValueError as exc:
            raise ConfigError(f"{siteinfo} is not JSON: {exc}") from exc
        names = NamespaceNames.from_siteinfo(data.get("query", data))
    elif api or lang:
        names = NamespaceNames.from_siteinfo(_siteinfo_from_api(api or f"https://{lang}.wikipedia.org/w/api.php"))
    return text_features(text_counts(_read(new), names), text_counts(_read(old), names))


def _cmd_features(args: argparse.Namespace) -> int:
    result = features_of_files(args.old, args.new, lang=args.lang, api=args.api, siteinfo=args.siteinfo)
    print(json.dumps(result, indent=2))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    wiki = settings.wiki(args.wiki)
    models_dir = args.models_dir or settings.models_dir
    try:
        from automod.training import dataset_from_api, dataset_from_dump, train_model
    except ImportError as exc:
        raise ConfigError(f"training needs the 'local' extra (pip install 'automod[local]'): {exc}") from exc
    show = not args.quiet
    if args.days is not None and args.days <= 0:
        raise ConfigError("--days should be a positive number")
    if args.from_dump is not None:
        dataset = dataset_from_dump(args.from_dump, wiki.name, args.days, show_progress=show)
    else:
        if args.days is None:
            raise ConfigError("--from-api needs --days N")
        from automod.wiki import WikiGateway

        gateway = WikiGateway(wiki, settings.pywikibot_dir, login=False)
        dataset = dataset_from_api(gateway.query, wiki.name, args.days, show_progress=show)
    result = train_model(dataset, args.name, models_dir)
    card = result.card
    print(json.dumps({"model": f"local:{card['name']}", "id": card["id"], "model_dir": str(result.model_dir),
                      "auc": card["evaluation"]["auc"], "data": {k: card["data"][k] for k in ("train", "evaluation")},
                      "threshold_for_precision": card["evaluation"]["threshold_for_precision"]}, indent=2))
    return 0


def register(commands: Any) -> None:
    """Add ``features`` and ``train`` to the ``automod`` sub-commands."""
    features = commands.add_parser("features", help="Print the wikitext-derived features of an edit as JSON.")
    features.add_argument("--old", type=Path, required=True, help="wikitext before the edit")
    features.add_argument("--new", type=Path, required=True, help="wikitext after the edit")
    names = features.add_mutually_exclusive_group()
    names.add_argument("--lang", default=None, help="read namespace names from this Wikipedia (e.g. de)")
    names.add_argument("--api", default=None, help="read namespace names from this api.php")
    names.add_argument("--siteinfo", type=Path, default=None, help="a saved meta=siteinfo answer (JSON)")
    features.set_defaults(func=_cmd_features)

    train = commands.add_parser("train", help="Train a local revert-risk model from a wiki's own history.")
    train.add_argument("--settings", type=Path, required=True)
    train.add_argument("--wiki", required=True, help="wiki name as in settings")
    train.add_argument("--name", required=True, help="model name: served as local:<name>")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-api", action="store_true", help="recent changes of the last --days days")
    source.add_argument("--from-dump", type=Path, metavar="FILE", help="XML dump with full histories (.bz2/.gz ok)")
    train.add_argument("--days", type=float, default=None,
                       help="data window in days (required with --from-api; with a dump, before its newest edit)")
    train.add_argument("--models-dir", type=Path, default=None, help="default: the settings' models_dir")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=_cmd_train)
