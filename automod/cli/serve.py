"""Scaling sub-commands: ``automod serve`` (a local model behind Lift Wing's contract) and
``automod shard`` (the served wikis split across several bot jobs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from automod.cli._options import settings_option

__all__ = ["register"]


def _serve(args: argparse.Namespace) -> int:
    from automod.errors import ConfigError
    from automod.settings import load_settings

    if not args.model.startswith("local:") or args.model == "local:":
        raise ConfigError(f"--model must name a local model (local:NAME), not {args.model!r}")
    try:
        from automod.serving import ServeOptions, routes_from_settings, serve
    except ModuleNotFoundError as exc:
        raise ConfigError("automod serve needs the serve extra"
                          f" (pip install -e '.[serve]' in the checkout): {exc}") from exc
    settings = load_settings(args.settings)
    models_dir = Path(args.models_dir) if args.models_dir else settings.models_dir
    routes, langs = routes_from_settings(settings)
    serve(ServeOptions(model_dir=models_dir / args.model.removeprefix("local:"), routes=routes,
                       content_langs=langs, user_agent=settings.user_agent, host=args.host, port=args.port,
                       workers=args.workers, threads=args.threads, allow_remote=args.allow_remote, name=args.name,
                       request_timeout=args.request_timeout))
    return 0


def _shard(args: argparse.Namespace) -> int:
    from automod.serving import central_group, parse_rates, plan_shards, rates_from_store, write_shards
    from automod.settings import load_settings

    settings = load_settings(args.settings)
    wikis = [w.name for w in settings.wikis]
    if args.rates:
        rates = parse_rates(args.rates)
        source = "command line"
    else:
        rates = rates_from_store(settings.store, wikis, days=args.days)
        source = f"store, last {args.days:g} days"
    plan = plan_shards(wikis, rates, args.jobs, together=central_group(settings))
    summary = write_shards(Path(args.settings), plan, Path(args.out))
    print(json.dumps({"rates_from": source, **summary}, indent=2))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from automod.serving import DEFAULT_HOST, DEFAULT_PORT

    p = commands.add_parser("serve", help="serve a local model over Lift Wing's revert-risk HTTP contract (KServe)",
                            description="Serve a local model over Lift Wing's revert-risk HTTP contract on KServe's "
                                        "model server, reading revisions from the wikis the settings list; any Lift "
                                        "Wing client (the bot too) can use it. Binds 127.0.0.1 by default.",
                            parents=[settings_option("operator settings: the wikis whose API the server reads "
                                                     "revisions from (and models_dir)", type=None)])
    p.add_argument("--model", required=True, help="the local model to serve, local:NAME (a folder in the models dir)")
    p.add_argument("--models-dir", help="folder holding the model (default: the settings' models_dir)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to bind (default {DEFAULT_HOST}; other addresses need --allow-remote)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT}, as KServe)")
    p.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    p.add_argument("--threads", type=int, default=2,
                   help="requests scored at once per worker and wiki (each has its own scorer; default 2)")
    p.add_argument("--name", help="name to serve under (default: Lift Wing's name for the model's kind, "
                                  "revertrisk-language-agnostic or revertrisk-multilingual)")
    p.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="a client's time to send a whole request; slower connections are closed (default 10)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow binding a non-loopback address (the server has no authentication)")
    p.set_defaults(func=_serve)

    s = commands.add_parser("shard", help="split the served wikis into N settings files and Toolforge jobs",
                            description="Split the wikis of one settings file into N shards balanced by edit "
                                        "rate: writes shard-N.yaml (each with its own store, seeded with its wikis' "
                                        "history, and its own pywikibot directory) and a Toolforge jobs.yaml, all "
                                        "under --out.",
                            parents=[settings_option("operator settings listing every wiki to split", type=None)])
    s.add_argument("--jobs", type=int, required=True, help="how many shards (bot jobs) to make")
    s.add_argument("--out", required=True, help="folder for shard-N.yaml, their stores and jobs.yaml")
    s.add_argument("--rates", help="edit rates instead of the store's: WIKI=EDITS_PER_DAY,… (a missing wiki counts 0)")
    s.add_argument("--days", type=float, default=7.0,
                   help="days of the store's decisions to measure rates on (default 7)")
    s.set_defaults(func=_shard)
