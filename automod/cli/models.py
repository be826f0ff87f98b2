"""``automod features`` and ``automod train``: locally hosted models.

Registered into the ``automod`` command by :mod:`automod.cli`. Heavy imports (xgboost,
mwxml) happen inside the commands, so the bot itself starts without them.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from automod.cli._options import settings_option, wiki_option
from automod.errors import AutomodError, ConfigError
from automod.scoring import FEATURE_NAMES

__all__ = ["features_of_files", "register"]

log = logging.getLogger("automod.cli.models")

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
                                         "formatversion": "2", "siprop": "namespaces|namespacealiases"},
                            headers={"User-Agent": USER_AGENT}, timeout=10)
        resp.raise_for_status()
        return dict(resp.json().get("query", {}))
    except (requests.RequestException, ValueError) as exc:
        raise AutomodError(f"cannot read namespace names from {api}: {exc}") from exc


def features_of_files(old: Path, new: Path, *, lang: str | None = None, api: str | None = None,
                      siteinfo: Path | None = None) -> dict[str, float]:
    """The wikitext-derived features of the edit ``old`` → ``new`` (two wikitext files).

    Namespace names come from ``siteinfo`` (a saved ``meta=siteinfo`` answer), else from
    the wiki at ``api``, else from the ``lang`` Wikipedia's API; with none of them, only
    MediaWiki's canonical names (Category, File, Image, Media) are recognised.
    """
    from automod.scoring import NamespaceNames, text_counts, text_features

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


def _train_from_csv(args: argparse.Namespace) -> int:
    if args.kind != "language-agnostic":
        raise ConfigError("--from-csv trains the language-agnostic model only (--kind language-agnostic)")
    if args.models_dir is None and args.settings is None:
        raise ConfigError("--from-csv needs --models-dir DIR (or --settings, for its models_dir)")
    try:
        from automod.training import table_from_csv, train_table
    except ImportError as exc:
        raise ConfigError("training needs the 'local' extra"
                          f" (pip install -e '.[local]' in the checkout): {exc}") from exc
    models_dir = args.models_dir
    if models_dir is None:
        from automod.settings import load_settings

        models_dir = load_settings(args.settings).models_dir
    result = train_table(table_from_csv(args.from_csv), args.name, models_dir)
    card = result.card
    ev = card["evaluation"]
    print(json.dumps({"model": f"local:{card['name']}", "kind": "language-agnostic", "id": card["id"],
                      "model_dir": str(result.model_dir), "auc": ev["auc"], "evaluation": ev["method"],
                      **{k: ev[k] for k in ev if k.startswith("recall_at_") or k == "pr_auc"},
                      "data": card["data"]["train"], "threshold_for_precision": ev["threshold_for_precision"],
                      "recommended": ev["recommended"]}, indent=2))
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from automod.settings import load_settings

    if args.from_csv is not None:
        return _train_from_csv(args)
    if args.settings is None or args.wiki is None:
        raise ConfigError("--from-api and --from-dump need --settings FILE and --wiki NAME")
    settings = load_settings(args.settings)
    wiki = settings.wiki(args.wiki)
    models_dir = args.models_dir or settings.models_dir
    multilingual = args.kind == "multilingual"
    if multilingual and args.base is None:
        raise ConfigError("--kind multilingual needs --base DIR: a Hugging Face encoder checkpoint directory")
    if not multilingual and any(v is not None for v in (args.base, args.epochs, args.device, args.encoder_lr,
                                                         args.head_lr)):
        raise ConfigError("--base, --epochs, --device and the learning rates are for --kind multilingual")
    try:
        from automod.training import dataset_from_api, dataset_from_dump, train_model

        extract = None
        if multilingual:
            from automod.training import TrainConfig, text_extractor, train_multilingual_model

            extract = text_extractor(wiki.lang or "en")
    except ImportError as exc:
        extra = "multilingual" if multilingual else "local"
        raise ConfigError(f"training needs the '{extra}' extra (pip install -e '.[{extra}]' in the checkout):"
                          f" {exc}") from exc
    show = not args.quiet
    if args.days is not None and args.days <= 0:
        raise ConfigError("--days should be a positive number")
    if args.from_dump is not None:
        dataset = dataset_from_dump(args.from_dump, wiki.name, args.days, show_progress=show, extract=extract,
                                    lang=wiki.lang or "en")
    else:
        if args.days is None:
            raise ConfigError("--from-api needs --days N")
        from automod.onwiki import WikiGateway

        gateway = WikiGateway(wiki, settings.pywikibot_dir, login=False)
        dataset = dataset_from_api(gateway.query, wiki.name, args.days, show_progress=show, extract=extract)
    if multilingual:
        given = {"epochs": args.epochs, "device": args.device, "encoder_lr": args.encoder_lr, "head_lr": args.head_lr}
        config = TrainConfig(**{k: v for k, v in given.items() if v is not None}, train_encoder=not args.freeze_encoder)
        trained = train_multilingual_model(dataset, args.name, models_dir, args.base, config)
        card = trained.card
        print(json.dumps({"model": f"local:{card['name']}", "kind": "multilingual", "id": card["id"],
                          "model_dir": str(trained.model_dir), "auc": trained.eval_auc,
                          "data": {k: card["data"][k] for k in ("edits", "heads", "booster", "held_out", "reverted")},
                          "int8_max_abs_diff": trained.quantized_max_abs_diff}, indent=2))
        return 0
    result = train_model(dataset, args.name, models_dir)
    card = result.card
    print(json.dumps({"model": f"local:{card['name']}", "kind": "language-agnostic", "id": card["id"],
                      "model_dir": str(result.model_dir), "auc": card["evaluation"]["auc"],
                      "data": {k: card["data"][k] for k in ("train", "evaluation")},
                      "threshold_for_precision": card["evaluation"]["threshold_for_precision"],
                      "recommended": card["evaluation"]["recommended"]}, indent=2))
    return 0


def _cmd_upgrade_model(args: argparse.Namespace) -> int:
    from automod.training import upgrade_model_dir

    card = upgrade_model_dir(args.models_dir / args.name)
    print(json.dumps({"model": f"local:{card['name']}", "id": card["id"], "serving": card["serving"]}, indent=2))
    return 0


def register(commands: Any) -> None:
    """Add ``features`` and ``train`` to the ``automod`` sub-commands."""
    features = commands.add_parser("features", help="Print the wikitext-derived features of an edit as JSON.",
                                   description="Compute the wikitext-derived features of the language-agnostic "
                                               "model (references, links, headings, media, quality…) for one edit "
                                               "given as two wikitext files, and print them as a JSON object. No "
                                               "wiki is needed unless namespace names are asked for.")
    features.add_argument("--old", type=Path, required=True, metavar="FILE",
                          help="a UTF-8 text file holding the page's wikitext before the edit (an empty file for "
                               "a page creation)")
    features.add_argument("--new", type=Path, required=True, metavar="FILE",
                          help="a UTF-8 text file holding the page's wikitext after the edit")
    names = features.add_mutually_exclusive_group()
    names.add_argument("--lang", default=None, help="read namespace names from this Wikipedia (e.g. de)")
    names.add_argument("--api", default=None, help="read namespace names from this api.php")
    names.add_argument("--siteinfo", type=Path, default=None, help="a saved meta=siteinfo answer (JSON)")
    features.set_defaults(func=_cmd_features)

    train = commands.add_parser("train", help="Train a local revert-risk model from a wiki's own history.",
                                description="Train a local revert-risk model from a wiki's own history. Re-running "
                                            "a multilingual training with unchanged data and settings (a dump; an API "
                                            "window moves with time) resumes after the last finished epoch.",
                                parents=[settings_option("operator settings (YAML); required with --from-api and "
                                                         "--from-dump", required=False),
                                         wiki_option("wiki name as in settings; required with --from-api and "
                                                     "--from-dump", required=False)])
    train.add_argument("--name", required=True, help="model name: served as local:<name>")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-api", action="store_true", help="recent changes of the last --days days")
    source.add_argument("--from-dump", type=Path, metavar="FILE", help="XML dump with full histories (.bz2/.gz ok)")
    source.add_argument("--from-csv", type=Path, metavar="FILE",
                        help="labelled edits in a CSV file (columns in the README: old_text, new_text, label, ...); "
                             "no wiki needed")
    train.add_argument("--days", type=float, default=None,
                       help="data window in days (required with --from-api; with a dump, before its newest edit)")
    train.add_argument("--models-dir", type=Path, default=None, help="default: the settings' models_dir")
    train.add_argument("--kind", choices=["language-agnostic", "multilingual"], default="language-agnostic",
                       help=f"language-agnostic: xgboost on {len(FEATURE_NAMES)} features; multilingual: a "
                            "transformer encoder on the edit's text fragments + xgboost (needs --base)")
    train.add_argument("--base", type=Path, default=None, metavar="DIR",
                       help="multilingual: the encoder to fine-tune, a local Hugging Face checkpoint directory "
                            "(e.g. bert-base-multilingual-cased, downloaded once); nothing is downloaded")
    train.add_argument("--epochs", type=int, default=None, help="multilingual: fine-tuning epochs (default 3)")
    train.add_argument("--encoder-lr", type=float, default=None, help="multilingual: encoder learning rate (2e-5)")
    train.add_argument("--head-lr", type=float, default=None, help="multilingual: heads' learning rate (1e-3)")
    train.add_argument("--freeze-encoder", action="store_true",
                       help="multilingual: train the heads only (much faster on a CPU, less accurate)")
    train.add_argument("--device", default=None,
                       help="multilingual: cpu, cuda, cuda:1… (default: a GPU when torch sees one)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=_cmd_train)

    upgrade = commands.add_parser("upgrade-model", help="Add the torch-free heads to an older multilingual model "
                                                        "directory (served without torch when its ONNX encoder is "
                                                        "measured).",
                                  description="Add the torch-free (numpy) heads to a multilingual model directory "
                                              "trained by an older automod, so that it is served without torch "
                                              "when its ONNX encoder has been measured. The model's own files "
                                              "are not changed.")
    upgrade.add_argument("--models-dir", type=Path, required=True, help="the directory holding the models")
    upgrade.add_argument("--name", required=True, help="the model's name (local:<name>)")
    upgrade.set_defaults(func=_cmd_upgrade_model)
