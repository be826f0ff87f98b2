"""``automod shard``: split the served wikis across N bot processes (Toolforge jobs).

One process follows every wiki it serves; with local models that stops scaling at a few
revisions per second. Each shard gets its own settings file (a subset of the wikis) and its
own store, so shards never share a stream position, a lock or a decision: a wiki is in
exactly one shard, which is checked before anything is written. Shards are balanced by
recent edit rate (longest-processing-time first: the busiest wiki goes to the least
loaded shard), from the store's decisions of the last days or a rate table given by hand.

With ``central_config``, the central wiki and every served wiki its page may govern (all but
the opted-out ones) stay in one shard: that shard reads the page, posts its change notice and
publishes the summary of every wiki it governs from its own store. Only that shard's file
carries ``central_config`` (its ``opted_out`` narrowed to the shard's wikis); the others serve
opted-out wikis only and carry none. Every shard file is validated as settings before any is
written: a split that cannot give valid files fails with the reason and writes nothing.

Everything a shard uses lives under ``--out``, and ``jobs.yaml`` names it by that absolute
path: ``shard-N.yaml``, its store ``shard-N.sqlite`` (seeded with the source store's history of
the shard's wikis and its stream position, so warning levels, caps, reports and labels carry
over and the shard resumes where the bot stopped), its logs, and, when the settings name a
``pywikibot_dir``, its own ``pywikibot-N/`` (one per running bot, as user-config.py.sample
says: pywikibot's throttle file, cookies and API cache are per directory). That directory's
``user-config.py`` runs the operator's own file and keeps its password file where it is, so
no credential is copied.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from automod.errors import ConfigError, StoreError
from automod.settings import Settings, load_settings, parse_settings
from automod.store import Store, decision_rates

__all__ = ["Shard", "central_group", "parse_rates", "plan_shards", "rates_from_store", "write_shards"]

RATE_WINDOW_DAYS = 7.0


@dataclass(frozen=True)
class Shard:
    """One job's share: its wikis and the edit rate (edits/day) they add up to."""

    index: int
    wikis: tuple[str, ...]
    rate: float


def parse_rates(text: str) -> dict[str, float]:
    """``enwiki=120000,frwiki=30000`` → rates (edits/day); ConfigError names a bad item."""
    rates: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not name.strip() or rate < 0:
            raise ConfigError(f"bad rate {item!r}: expected WIKI=EDITS_PER_DAY")
        rates[name.strip()] = rate
    return rates


def rates_from_store(store: Path, wikis: list[str], days: float = RATE_WINDOW_DAYS,
                     now: float | None = None) -> dict[str, float]:
    """Candidate edits per day of each wiki over the last ``days``, read from the bot's
    store (read-only: a running bot keeps writing it); 0 for a wiki it has not seen."""
    rates = dict.fromkeys(wikis, 0.0)
    if not store.is_file():
        return rates
    since = (time.time() if now is None else now) - days * 86400
    try:
        counts = decision_rates(store, since)
    except StoreError as exc:
        raise ConfigError(f"cannot read edit rates from {store}: {exc}") from exc
    for wiki, count in counts.items():
        if wiki in rates:
            rates[wiki] = count / days
    return rates


def central_group(settings: Settings) -> tuple[str, ...]:
    """The wikis that must share a shard: the central wiki and every wiki its page may govern
    (none without ``central_config``)."""
    central = settings.central_config
    if central is None:
        return ()
    return tuple(w.name for w in settings.wikis if w.name == central.wiki or central.governs(w.name))


def plan_shards(wikis: list[str], rates: Mapping[str, float], jobs: int,
                together: Collection[str] = ()) -> list[Shard]:
    """Balance ``wikis`` over ``jobs`` shards by rate; every wiki in exactly one shard, the
    wikis in ``together`` in the same one (placed as one unit of their summed rate).

    Raises ConfigError for fewer units than jobs (an empty shard would follow nothing) or a
    wiki named twice.
    """
    if jobs < 1:
        raise ConfigError("--jobs must be at least 1")
    if len(set(wikis)) != len(wikis):
        raise ConfigError(f"a wiki is listed twice in the settings: {sorted(wikis)}")
    group = tuple(sorted(w for w in wikis if w in set(together)))
    units = [group] if group else []
    units += [(w,) for w in wikis if w not in group]
    if len(units) < jobs:
        kept = f" ({', '.join(group)} stay together: the central page may govern them)" if len(group) > 1 else ""
        raise ConfigError(f"{jobs} jobs for {len(units)} shardable unit(s){kept}: every shard needs at least one wiki")
    loads = [0.0] * jobs
    members: list[list[str]] = [[] for _ in range(jobs)]

    def rate(unit: tuple[str, ...]) -> float:
        return sum(rates.get(w, 0.0) for w in unit)

    # Busiest first; ties by name so the same inputs always give the same shards.
    for unit in sorted(units, key=lambda u: (-rate(u), u)):
        target = min(range(jobs), key=lambda i: (loads[i], len(members[i]), i))
        members[target].extend(unit)
        loads[target] += rate(unit)
    shards = [Shard(i, tuple(sorted(m)), loads[i]) for i, m in enumerate(members)]
    seen = [w for shard in shards for w in shard.wikis]
    assert sorted(seen) == sorted(wikis), "every wiki in exactly one shard"
    return shards


def write_shards(settings_file: Path, shards: list[Shard], out: Path) -> dict[str, Any]:
    """Write ``shard-N.yaml`` (the settings with only that shard's wikis and its own store)
    and ``jobs.yaml`` (one continuous Toolforge job per shard) into ``out``; return a summary."""
    settings = load_settings(settings_file)  # validated; paths resolved against its folder
    data = yaml.safe_load(settings_file.read_text(encoding="utf-8"))
    by_name = {w["name"]: w for w in data["wikis"]}
    out = out.expanduser().resolve()
    contents = [_shard_settings(data, settings, shard, by_name, out) for shard in shards]
    taken = [out / name for shard in shards for name in (f"shard-{shard.index}.sqlite", f"pywikibot-{shard.index}")
             if (out / name).exists()]
    if taken:
        raise ConfigError(f"{', '.join(map(str, taken))} already exist(s): a shard's store and pywikibot directory "
                          "are made new (choose another --out, or remove them)")
    out.mkdir(parents=True, exist_ok=True)
    jobs, files, seeded = [], [], []
    for shard, shard_data in zip(shards, contents):
        if settings.pywikibot_dir is not None:
            _write_pywikibot_dir(out / shard_data["pywikibot_dir"], settings.pywikibot_dir, shard.index)
        with Store(out / shard_data["store"]) as store:
            seeded.append(store.seed_from(settings.store, shard.wikis) if settings.store.is_file() else {})
        path = out / f"shard-{shard.index}.yaml"
        path.write_text("# automod shard " f"{shard.index} of {len(shards)} (automod shard)\n"
                        + yaml.safe_dump(shard_data, sort_keys=False), encoding="utf-8")
        files.append(str(path))
        jobs.append({"name": f"automod-shard-{shard.index}",
                     "command": f"$HOME/automod/pyvenv/bin/automod run --settings {path}",
                     "image": "python3.11", "continuous": True, "mem": "512Mi", "cpu": 0.5,
                     "emails": "onfailure",
                     "filelog-stdout": str(out / "logs" / f"automod-shard-{shard.index}.decisions.jsonl"),
                     "filelog-stderr": str(out / "logs" / f"automod-shard-{shard.index}.log")})
    (out / "logs").mkdir(exist_ok=True)
    (out / "jobs.yaml").write_text("# Toolforge jobs, one per shard (toolforge jobs load jobs.yaml)\n"
                                   + yaml.safe_dump(jobs, sort_keys=False), encoding="utf-8")
    return {"shards": [{"index": s.index, "wikis": list(s.wikis), "edits_per_day": round(s.rate, 1),
                        "settings": f, "seeded": rows} for s, f, rows in zip(shards, files, seeded)],
            "jobs": str(out / "jobs.yaml")}


def _write_pywikibot_dir(path: Path, source: Path, index: int) -> None:
    """Shard ``index``'s own pywikibot directory: a ``user-config.py`` that runs the operator's
    (``source``) and keeps a relative ``password_file`` pointing into ``source``."""
    if not (source / "user-config.py").is_file():
        raise ConfigError(f"settings.pywikibot_dir {source} has no user-config.py to give the shards")
    path.mkdir(mode=0o700, parents=True)
    config = source / "user-config.py"
    (path / "user-config.py").write_text(f"""# Written by `automod shard` for shard {index}: its own pywikibot directory
# (throttle file, cookies and API cache are per directory; one per running bot).
# The settings are those of {config}, read from there at every start;
# credentials stay in {source}.
import os as _os

_source = {str(source)!r}
with open(_os.path.join(_source, 'user-config.py'), encoding='utf-8') as _file:
    exec(compile(_file.read(), _os.path.join(_source, 'user-config.py'), 'exec'))
if password_file and not _os.path.isabs(password_file):
    password_file = _os.path.join(_source, password_file)
""", encoding="utf-8")
    (path / "user-config.py").chmod(0o600)


def _shard_settings(data: dict[str, Any], settings: Settings, shard: Shard, by_name: Mapping[str, Any],
                    out: Path) -> dict[str, Any]:
    """The settings document of one shard, checked as ``automod run`` will check it."""
    shard_data = dict(data)
    shard_data["wikis"] = [by_name[name] for name in shard.wikis]
    shard_data["store"] = f"shard-{shard.index}.sqlite"  # relative to the shard's file
    shard_data["models_dir"] = str(settings.models_dir)
    if settings.pywikibot_dir is not None:
        shard_data["pywikibot_dir"] = f"pywikibot-{shard.index}"  # its own, beside its file (one per bot)
    else:
        shard_data.pop("pywikibot_dir", None)
    central = settings.central_config
    if central is not None:
        if central.wiki in shard.wikis:
            shard_data["central_config"] = {**data["central_config"],
                                            "opted_out": sorted(central.opted_out & set(shard.wikis))}
        else:
            governed = sorted(w for w in shard.wikis if central.governs(w))
            if governed:
                raise ConfigError(f"shard {shard.index} would serve {', '.join(governed)} without the central "
                                  f"wiki {central.wiki} whose page may govern them; keep them in its shard "
                                  "(plan with central_group) or list them in central_config.opted_out")
            shard_data.pop("central_config", None)
    try:
        parse_settings(shard_data, base=out.resolve())
    except ConfigError as exc:
        raise ConfigError(f"shard {shard.index} would not be valid settings, nothing written: {exc}") from exc
    return shard_data
