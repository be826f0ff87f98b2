"""Memory under sustained traffic, and per-event work against page size (issue 29).

Part 1, the soak: its own sandbox MediaWiki, a zero-latency Lift Wing stand-in (a pure
function of the revision id, no wiki read) and `automod run` in log-only mode, so that the
wiki's rollback cost does not dominate. Mixed traffic is written for at least ``--decisions``
decisions: namespace-0 edits on ``--pages`` pages by many editors (IPv4 and IPv6 addresses seen
through X-Forwarded-For, new accounts, a trusted patroller), about one in eight scored above
the threshold; false-positive reports (new sections on the report page, which grows); talk pages
that grow; article-talk edits; and a config edit every ``--config-every`` steps. The writer never
runs more than ``--backlog`` candidates ahead of the bot, so a growing queue is not mistaken for
a leak. The bot process's RSS and high-water mark (/proc/<pid>/status VmRSS, VmHWM) are sampled
against its decision count; the slope per 1,000 decisions after ``--warmup`` decisions is the
least-squares fit, with r², and again over the second half of the run after warm-up, which
says whether it levels off (10,000 decisions by default: the bot's caches and the allocators'
working set fill over the first few thousand). Target: at most 0.5 MiB per 1,000 decisions.

``--probe`` also samples, inside the bot, the C heap in use and free-but-kept (glibc ``mallinfo2``) and
SQLite's memory (``sqlite3_memory_used``), and prints their slopes: live native memory or fragmentation;
and each glibc arena's size (``malloc_info``) at the end of warm-up and at the end, to tell which
thread's heap grows (the main arena is the stream thread's); and, every 5 s, CPython's small-object
allocator (its arenas are mmap'd outside glibc's heap: ``sys._debugmallocstats``, caught from fd 2),
the live objects (``gc.get_objects``) and allocated blocks (``sys.getallocatedblocks``), with slopes.
``--tracemalloc`` runs the bot under tracemalloc and has it dump a snapshot and its live objects
counted by type at the end of warm-up and at the end; the biggest growths between the two are
printed (slower: use it to find what grows, not for the slope). ``--peaks`` runs the bot under
tracemalloc with one frame and wraps its entry points (``PEAKED``: the worker's per-event handler,
each chore, each report-pass step named by the line it resumes from, the report history's reads):
each call's transient peak is recorded against the events handled, and per entry point the first
and last quarter's peaks and their slope are printed, with the backlogs (queue, completion tracker,
held passes, prefetch memo) — which path's peak grows with the run (its RSS figures include
tracemalloc's own tables: not for the slope).

Part 2, the scale of per-event work: in this process, with the bot's own gateway, the
report-page pass (`process_report_page`, one new report section per pass) timed as the page grows
to ``--report-sections`` sections, and the warning-level read (`warning_level`) as a talk page
grows to ``--talk-kb`` KB. Medians per band are printed.

Run: python benchmarks/bench_soak.py [--decisions 10000] [--warmup 1000] [--dir DIR]
         [--no-scale] [--no-soak] [--tracemalloc] [--probe] [--peaks] [--max-in-flight N] [--wrap CMD]

``--wrap CMD`` runs the bot under CMD (``--wrap "heaptrack -o /tmp/soak"`` then ``heaptrack_print``
lists the C allocations leaked and peak by call stack): the allocations no Python-level tool sees.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from automod.config import parse_config  # noqa: E402
from automod.onwiki import WikiGateway, process_report_page, warning_level  # noqa: E402
from automod.sandbox import SandboxInfo, down, up  # noqa: E402
from automod.settings import WikiSettings  # noqa: E402
from automod.store import Store  # noqa: E402
from support.liftwing_standin import running_standin  # noqa: E402
from support.moderation_helpers import Bot, bot_settings, set_config, start_at_stream_end  # noqa: E402
from support.relay_helpers import spawn, wait_for  # noqa: E402
from support.settings_files import write_settings  # noqa: E402
from support.wiki import GENEROUS_LIMITS, WikiClient  # noqa: E402

MIB = 1024 * 1024
#: --probe's columns after the memory figures: C heap in use and free, SQLite, pymalloc arenas, of them
#: allocated and free blocks (MiB), live objects and allocated blocks (thousands).
PROBE_COLUMNS = 8
#: Editors write as fast as the bot decides: no limit gets in the way of the traffic.
LIMITS = GENEROUS_LIMITS + "".join(f"$wgRateLimits['edit']['{kind}'] = [ 100000, 60 ];\n"
                                   for kind in ("ip", "newbie", "user"))
#: The bot under tracemalloc: a thread waits for a request file and dumps a snapshot and the
#: live objects counted by type, then `automod run` runs as usual.
TRACED = """
import collections, gc, json, os, sys, threading, time, tracemalloc
tracemalloc.start(12)
request = sys.argv[1]
def watch():
    while True:
        time.sleep(0.2)
        if os.path.exists(request):
            name = open(request).read().strip()
            gc.collect()
            tracemalloc.take_snapshot().dump(name + ".snap")
            counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
            with open(name + ".types.tmp", "w") as out:
                json.dump(counts, out)
            os.replace(name + ".types.tmp", name + ".types")
            os.remove(request)
threading.Thread(target=watch, daemon=True).start()
from automod.cli import main
sys.exit(main(sys.argv[2:]))
"""


#: The bot with a probe: a thread writes, each second, what the C heap holds (glibc ``mallinfo2``:
#: in use, and free but kept) and what SQLite holds (``sqlite3_memory_used``), to tell live
#: native memory from fragmentation.
PROBED = """
import ctypes, json, os, sys, threading, time
out = sys.argv[1]
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2
import _sqlite3
sqlite = ctypes.CDLL(_sqlite3.__file__)
sqlite.sqlite3_memory_used.restype = ctypes.c_int64
import re
libc.open_memstream.restype = ctypes.c_void_p
libc.open_memstream.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
libc.free.argtypes = [ctypes.c_void_p]
def arenas():
    # per glibc arena (malloc_info): bytes taken from the system less the free bins; the main arena
    # first (the main thread: the stream), then the others newest first (the earliest thread's last)
    buf, size = ctypes.c_void_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(buf), ctypes.byref(size))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    xml = ctypes.string_at(buf, size.value).decode()
    libc.free(buf)
    found = []
    for heap in re.findall(r'<heap nr="[0-9]+">(.*?)</heap>', xml, re.S):
        current = int(re.search(r'<system type="current" size="([0-9]+)"', heap).group(1))
        free = sum(int(x) for x in re.findall(r'<total type="(?:fast|rest)" count="[0-9]+" size="([0-9]+)"', heap))
        found.append(current - free)
    return found
import gc, tempfile
PYMALLOC = ("arenas allocated current", "bytes in allocated blocks", "bytes in available blocks")
def pymalloc():
    # CPython's small-object allocator (its arenas are mmap'd, outside glibc's heap): sys._debugmallocstats
    # prints to fd 2, caught in a file for the few milliseconds it takes (a log line then is lost)
    with tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        caught.seek(0)
        text = caught.read().decode(errors="replace")
    found = {}
    for name in PYMALLOC:
        m = re.search("# " + name + r" *= *([0-9,]+)", text)
        found[name] = int(m.group(1).replace(",", "")) if m else 0
    size = re.search(r"arenas \\* ([0-9]+) bytes/arena", text)
    found["arena size"] = int(size.group(1)) if size else 0
    return found
def probe():
    tick = 0
    py = {}
    while True:
        info = libc.mallinfo2()
        if tick % 5 == 0:  # every 5 s: the pymalloc stats and the live objects (a walk of the gc's lists)
            py = pymalloc()
            py["objects"] = len(gc.get_objects())
            py["blocks"] = sys.getallocatedblocks()
        tick += 1
        with open(out + ".tmp", "w") as f:
            json.dump({"in_use": info.uordblks + info.hblkhd, "free": info.fordblks,
                       "sqlite": sqlite.sqlite3_memory_used(0), "arenas": arenas(), "py": py}, f)
        os.replace(out + ".tmp", out)
        time.sleep(1)
threading.Thread(target=probe, daemon=True).start()
from automod.cli import main
sys.exit(main(sys.argv[2:]))
"""


#: The bot with its entry points' transient peaks recorded (``--peaks``): tracemalloc with one frame,
#: and the worker's per-event handler, each chore, each report-pass step (named by the generator's
#: function and line it resumes from) and the batch prefetch wrapped: ``tracemalloc.reset_peak()``
#: before, the peak above the traced memory at entry after. Nested calls hand their peak up to the
#: caller, so each figure is its own call's. A line per call, and every 5 s the backlogs (the worker's
#: queue, the completion tracker, the held passes, the prefetch memo) as a line, go to the file
#: ``sys.argv[1]`` (JSON lines). Peaks are global to the process: another thread's allocation during a
#: call counts in it (the stream thread's are small and flat).
PEAKED = """
import json, sys, threading, time, tracemalloc
tracemalloc.start(1)
out = open(sys.argv[1], "w", buffering=1)
lock, local = threading.Lock(), threading.local()
handled = [0]
def emit(record):
    with lock:
        out.write(json.dumps(record) + "\\n")
def measured(name, call):
    stack = local.__dict__.setdefault("stack", [])
    if stack:  # the caller's peak so far, kept before the reset
        stack[-1][1] = max(stack[-1][1], tracemalloc.get_traced_memory()[1])
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    frame = [base, base]
    stack.append(frame)
    try:
        return call()
    finally:
        stack.pop()
        peak = max(frame[1], tracemalloc.get_traced_memory()[1])
        emit({"n": handled[0], "at": name, "peak": peak - base, "t": time.monotonic()})
        if stack:
            stack[-1][1] = max(stack[-1][1], peak)
        tracemalloc.reset_peak()
def step_name(gen):
    while getattr(gen, "gi_yieldfrom", None) is not None and hasattr(gen.gi_yieldfrom, "gi_frame"):
        gen = gen.gi_yieldfrom
    frame = getattr(gen, "gi_frame", None)
    return f"step {gen.__name__}:{frame.f_lineno}" if frame is not None else "step (start)"
from automod.moderation import workers
from automod.moderation import moderator as moderator_module
W = workers.WikiWorker
def wrap(cls, attr, name=None):
    original = getattr(cls, attr)
    def wrapper(self, *a, **k):
        return measured(name or attr, lambda: original(self, *a, **k))
    setattr(cls, attr, wrapper)
for attr in ("_handle_isolated", "_due_report_passes", "_waiting_reports", "_outcome_labels", "_shared_tasks",
             "_retry_deferred", "_daily_statistics"):
    wrap(W, attr)
original_handle = W._handle_isolated
def counted(self, *a, **k):
    handled[0] += 1
    return original_handle(self, *a, **k)
W._handle_isolated = counted
original_step = W._step
def step(self, in_pass):
    name = step_name(in_pass.steps) + (" (waiting)" if in_pass.page is None else "")
    return measured(name, lambda: original_step(self, in_pass))
W._step = step
wrap(moderator_module.Moderator, "prefetch")
free = workers.release_free_memory
workers.release_free_memory = lambda: measured("release_free_memory", free)
from automod.onwiki import page_reads, report_trust
for attr, name in (("heading_author", "pass: heading_author"), ("_more", "pass: history batch"),
                   ("authors", "pass: authors")):
    wrap(report_trust.PageHistory, attr, name)
workers_seen = []
original_init = W.__init__
def init(self, *a, **k):
    original_init(self, *a, **k)
    workers_seen.append(self)
W.__init__ = init
def backlog():
    while True:
        time.sleep(5)
        for w in list(workers_seen):
            memo = None
            m = w.moderator
            if m is not None:
                for served in list(m.wikis.values()):
                    for scorer in list(getattr(served, "_scorers", {}).values()):
                        if hasattr(scorer, "_memo"):
                            memo = (memo or 0) + len(scorer._memo)
            emit({"n": handled[0], "at": "backlog", "queue": w.queue.qsize(), "tracker": w.tracker.outstanding,
                  "held": len(w.passes), "retries": len(list(w.retries.waiting)), "memo": memo,
                  "traced": tracemalloc.get_traced_memory()[0], "t": time.monotonic()})
threading.Thread(target=backlog, daemon=True).start()
from automod.cli import main
sys.exit(main(sys.argv[2:]))
"""


def score(lang: str, rev_id: int) -> float:
    """The stand-in's answer: no wiki read, about one revision in eight above the threshold."""
    return 0.995 if rev_id % 8 == 3 else 0.05 + (rev_id % 37) / 100


class TracedBot(Bot):
    """`automod run` under tracemalloc (see ``TRACED``), with the native probe (``PROBED``), or with its
    entry points' peaks recorded (``PEAKED``)."""

    def __init__(self, settings: Path, probed: bool = False, peaked: bool = False) -> None:  # noqa: D107
        self.request = settings.parent / ("peaks.jsonl" if peaked else "probe.json" if probed else "dump.request")
        self.log = settings.parent / f"bot-{time.monotonic_ns()}.log"
        script = PEAKED if peaked else PROBED if probed else TRACED
        with self.log.open("w") as stderr:
            self.proc = spawn([sys.executable, "-c", script, str(self.request), "run",
                               "--settings", str(settings)],
                              stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def dump(self, name: Path) -> None:
        self.request.write_text(str(name))
        wait_for(lambda: Path(f"{name}.types").exists(), timeout=300, interval=0.5)


class WrappedBot(Bot):
    """`automod run` under a wrapper command (``--wrap "heaptrack -o FILE"``, ``valgrind --tool=massif``):
    the wrapper's own chatter on stdout is skipped, memory is sampled in the bot (the wrapper's
    descendant running Python) and the stop signal goes to the bot, so the wrapper writes its
    report as the bot exits."""

    def __init__(self, settings: Path, wrap: list[str], stop_signal: int = signal.SIGTERM) -> None:  # noqa: D107
        self.stop_signal = stop_signal
        self.log = settings.parent / f"bot-{time.monotonic_ns()}.log"
        with self.log.open("w") as stderr:
            self.proc = spawn([*wrap, sys.executable, "-m", "automod", "run", "--settings", str(settings)],
                              stdout=subprocess.PIPE, stderr=stderr, text=True)
        self.lines: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.lines.append(json.loads(line))

    @property
    def pid(self) -> int:
        """The bot's own process: the newest descendant of the wrapper whose command runs automod."""
        todo, found = [self.proc.pid], self.proc.pid
        while todo:
            pid = todo.pop()
            try:
                if b"automod" in Path(f"/proc/{pid}/cmdline").read_bytes() and pid != self.proc.pid:
                    found = pid
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def stop(self, sig: int | None = None) -> int:
        if self.proc.poll() is None:
            os.kill(self.pid, self.stop_signal if sig is None else sig)
        code = self.proc.wait(600)  # the wrapper may take long to write its report
        self._reader.join(5)
        return code


def bot_pid(bot: Bot) -> int:
    return bot.pid if isinstance(bot, WrappedBot) else bot.proc.pid


def memory(pid: int) -> tuple[float, float, float, float]:
    """VmRSS, VmHWM, RssAnon (the heaps) and RssFile (mapped files: code, SQLite's shared memory) of
    ``pid``, in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return tuple(int(fields[name].split()[0]) / 1024  # type: ignore[return-value]
                 for name in ("VmRSS", "VmHWM", "RssAnon", "RssFile"))


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope of y on x, and r²."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx if sxx else 0.0
    return slope, (sxy * sxy / (sxx * syy) if sxx and syy else 0.0)


class Traffic:
    """The mixed edits, written by one thread, never more than ``backlog`` candidates ahead."""

    def __init__(self, sandbox: SandboxInfo, bot: Bot, fp_page: str, config: dict[str, Any],
                 pages: int, backlog: int, config_every: int, seed: int = 29) -> None:
        self.bot, self.fp_page, self.config = bot, fp_page, config
        self.backlog, self.config_every = backlog, config_every
        self.report_share = 0.04  # --report-share
        self.rng = random.Random(seed)
        self.admin = WikiClient(sandbox, sandbox.admin)
        self.accounts = [WikiClient(sandbox, sandbox.accounts[role]) for role in ("vandal1", "vandal2", "patroller")]
        addresses = ([f"203.0.113.{i}" for i in range(1, 120)] + [f"198.51.100.{i}" for i in range(1, 80)]
                     + [f"2001:db8::{i:x}" for i in range(1, 100)])
        self.ips = [WikiClient(sandbox, ip=ip) for ip in addresses]
        for client in (self.admin, *self.accounts):  # one CSRF token a session: half the writer's requests
            token = client.token()
            client.token = lambda kind="csrf", token=token: token  # type: ignore[method-assign]
        stamp = time.time_ns()
        self.pages = [f"Soak {stamp} {i}" for i in range(pages)]
        self.candidates = 0
        self.counts: dict[str, int] = {}
        self.stop = threading.Event()

    def seed_pages(self) -> None:
        for page in self.pages:
            self.admin.edit(page, f"'''{page}''' is a stable article.\n\n== History ==\nText.")

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def step(self, i: int) -> None:
        rng = self.rng
        editor = rng.choice(self.ips) if rng.random() < 0.7 else rng.choice(self.accounts)
        roll = rng.random()
        if i and i % self.config_every == 0:
            self.config["threshold"] = 0.93 if self.config.get("threshold") != 0.93 else 0.94
            set_config(self.admin, self.config)
            self._count("config")
        elif roll < self.report_share:  # a report: a new section on the report page (which grows)
            self.ips[i % len(self.ips)].post(
                action="edit", title=self.fp_page, section="new", sectiontitle=f"Report {i} (r{rng.randrange(10**6)})",
                text=f"<!-- automod-report rev={rng.randrange(10**6)} -->\nPlease restore it. ~~~~",
                token=self.ips[i % len(self.ips)].token())
            self._count("report")
        elif roll < 0.10:  # a user talk page that grows
            self.admin.post(action="edit", title=f"User talk:{rng.choice(self.ips).name}", section="new",
                            sectiontitle=f"Note {i}", text=f"A note about edit {i}. " * 8 + "~~~~",
                            token=self.admin.token())
            self._count("user-talk")
        elif roll < 0.13:
            editor.edit(f"Talk:{rng.choice(self.pages)}", f"Discussion {i}: " + "words " * rng.randrange(5, 60))
            self._count("article-talk")
        else:
            self.candidates += 1
            editor.edit(rng.choice(self.pages), f"Article text, version {i}. " + "more " * rng.randrange(5, 200))
            self._count("article")

    def run(self, decisions: int) -> None:
        i = 0
        while not self.stop.is_set() and len(self.bot.lines) < decisions:
            if self.candidates - len(self.bot.lines) >= self.backlog:
                time.sleep(0.02)  # the bot's turn: never let its queue grow without bound
                continue
            try:
                self.step(i)
            except Exception as exc:  # noqa: BLE001 - a refused edit (edit conflict…) is traffic too
                self._count(f"refused {type(exc).__name__}")
            i += 1


def soak(sandbox: SandboxInfo, root: Path, args: argparse.Namespace) -> None:
    work = root / "soak"
    work.mkdir(parents=True, exist_ok=True)
    admin = WikiClient(sandbox, sandbox.admin)
    fp_page = f"User:{sandbox.bot.name}/False positives soak {time.time_ns()}"
    config = {"enabled": True, "mode": "log-only", "threshold": 0.93, "max_reverts_per_user_per_page": 0,
              "false_positive_page": fp_page, "skip_rights": ["bot", "autopatrol"]}
    set_config(admin, config)
    with running_standin(score_function=score) as liftwing:
        liftwing.requests = _Forget()  # the stand-in keeps no history in a soak
        settings = bot_settings(sandbox, work, liftwing.url)
        if args.max_in_flight is not None:  # the prefetch pool's threads (each may get a glibc arena of its own)
            data = yaml.safe_load(settings.read_text())
            data.setdefault("scoring", {})["max_in_flight"] = args.max_in_flight
            write_settings(settings, data)
        start_at_stream_end(sandbox, work)
        bot: Bot
        if args.wrap:
            bot = WrappedBot(settings, shlex.split(args.wrap), signal.Signals[f"SIG{args.wrap_stop}"])
        elif args.tracemalloc or args.probe or args.peaks:
            bot = TracedBot(settings, probed=args.probe, peaked=args.peaks)
        else:
            bot = Bot(settings)
        traffic = Traffic(sandbox, bot, fp_page, config, args.pages, args.backlog, args.config_every)
        traffic.report_share = args.report_share
        print(f"soak: seeding {args.pages} pages", flush=True)
        traffic.seed_pages()
        writer = threading.Thread(target=traffic.run, args=(args.decisions,), daemon=True)
        # decisions, RSS, HWM, anonymous, file-backed, [--probe: PROBE_COLUMNS], seconds
        samples: list[tuple[float, ...]] = []
        arenas: list[tuple[int, list[float]]] = []  # --probe: decisions, MiB per glibc arena
        started = time.monotonic()
        dumped = False
        writer.start()
        try:
            while writer.is_alive():
                if bot.proc.poll() is not None:
                    raise SystemExit(f"bot exited {bot.proc.returncode}: {bot.log.read_text()[-3000:]}")
                rss, hwm, anon, mapped = memory(bot_pid(bot))
                done = len(bot.lines)
                native = (0.0,) * PROBE_COLUMNS
                if args.probe and isinstance(bot, TracedBot) and bot.request.exists():
                    found = json.loads(bot.request.read_text())
                    py = found.get("py") or {}
                    native = (found["in_use"] / MIB, found["free"] / MIB, found["sqlite"] / MIB,
                              py.get("arenas allocated current", 0) * py.get("arena size", 0) / MIB,
                              py.get("bytes in allocated blocks", 0) / MIB,
                              py.get("bytes in available blocks", 0) / MIB,
                              py.get("objects", 0) / 1000, py.get("blocks", 0) / 1000)
                    arenas.append((done, [a / MIB for a in found.get("arenas", [])]))
                samples.append((done, rss, hwm, anon, mapped, *native, time.monotonic() - started))
                if args.tracemalloc and not dumped and done >= args.warmup:
                    bot.dump(work / "warm")
                    dumped = True
                if len(samples) % 20 == 0:
                    print(f"  {done:>6} decisions  RSS {rss:6.1f} MiB  HWM {hwm:6.1f} MiB  "
                          f"(heap {anon:6.1f}, files {mapped:5.1f})  {samples[-1][-1]:6.0f} s", flush=True)
                time.sleep(0.5)
            writer.join()
            samples.append((len(bot.lines), *memory(bot_pid(bot)), *samples[-1][5:-1], time.monotonic() - started))
            if args.tracemalloc:
                bot.dump(work / "end")
        finally:
            traffic.stop.set()
            code = bot.stop()
        elapsed = samples[-1][-1]
        outcomes: dict[str, int] = {}
        for line in bot.lines:
            outcomes[line["decision"]] = outcomes.get(line["decision"], 0) + 1
        print(f"\nsoak: {len(bot.lines)} decisions in {elapsed:.0f} s ({len(bot.lines) / elapsed:.1f}/s), "
              f"bot exit {code}")
        print(f"  traffic: {dict(sorted(traffic.counts.items()))}")
        print(f"  outcomes: {dict(sorted(outcomes.items()))}")
        after = [s for s in samples if s[0] >= args.warmup]
        first, last = samples[0], samples[-1]
        print(f"  RSS {first[1]:.1f} -> {last[1]:.1f} MiB, HWM -> {last[2]:.1f} MiB "
              f"(after warm-up at {args.warmup}: RSS {after[0][1]:.1f} -> {last[1]:.1f} MiB)"
              if after else "  too few decisions after warm-up for a slope")
        if len(after) >= 3:
            columns = [("RSS", 1), ("HWM", 2), ("  of it heap (RssAnon)", 3), ("  of it files (RssFile)", 4)]
            if args.probe:
                columns += [("  C heap in use (mallinfo2)", 5), ("  C heap free, kept (mallinfo2)", 6),
                            ("  SQLite (sqlite3_memory_used)", 7), ("  pymalloc arenas (mmap'd, outside glibc)", 8),
                            ("    of them in objects (allocated blocks)", 9),
                            ("    of them free blocks in used pools", 10)]
            for name, column in columns:
                slope, r2 = fit([(s[0] / 1000, s[column]) for s in after])
                verdict = "within" if slope <= 0.5 else "OVER"
                print(f"  {name} slope after warm-up: {slope:+.3f} MiB per 1,000 decisions (r² {r2:.2f}; "
                      f"{len(after)} samples; {after[0][column]:.1f} -> {after[-1][column]:.1f} MiB; "
                      f"target <= 0.5: {verdict})")
            # Whether it levels off: the same fit over the second half of the run after warm-up
            # (caches fill and the allocators reach their working set early, then RSS should stay).
            half = [s for s in after if s[0] >= (after[0][0] + after[-1][0]) / 2]
            if len(half) >= 3:
                for name, column in (("RSS", 1), ("HWM", 2)):
                    slope, r2 = fit([(s[0] / 1000, s[column]) for s in half])
                    print(f"  {name} slope over the second half ({half[0][0]}-{half[-1][0]} decisions): {slope:+.3f} "
                          f"MiB per 1,000 decisions (r² {r2:.2f}; {half[0][column]:.1f} -> {half[-1][column]:.1f} MiB; "
                          f"target <= 0.5: {'within' if slope <= 0.5 else 'OVER'})")
            if args.probe:
                for name, column in (("live objects (gc.get_objects)", 11),
                                     ("allocated blocks (sys.getallocatedblocks)", 12)):
                    slope, r2 = fit([(s[0] / 1000, s[column]) for s in after])
                    print(f"  {name}: {after[0][column]:.1f}k -> {after[-1][column]:.1f}k, slope {slope:+.2f}k "
                          f"per 1,000 decisions (r² {r2:.2f})")
        warm = [[a[0], *reversed(a[1:])] for done, a in arenas if a and done >= args.warmup]  # 1: oldest thread's
        if len(warm) >= 2:
            print("  glibc arenas (malloc_info: taken less free bins, MiB; 1: the first thread's), warm-up -> end: "
                  + ", ".join(f"{'main' if i == 0 else i} {a:.1f} -> {b:.1f}"
                              for i, (a, b) in enumerate(itertools.zip_longest(warm[0], warm[-1], fillvalue=0.0))))
        if args.tracemalloc:
            growth(work / "warm", work / "end")
        if args.peaks and isinstance(bot, TracedBot):
            peaks(bot.request, args.warmup)


class _Forget(list):  # type: ignore[type-arg]
    """A list that keeps nothing: the stand-in's request log, unneeded in a soak."""

    def append(self, item: Any) -> None:
        pass


def peaks(path: Path, warmup: int) -> None:
    """``--peaks``: per entry point, its calls' transient peaks in the first and last quarter of the
    events after warm-up (median and highest, KiB) and the slope of the peak per 1,000 events; then
    the backlogs at the end of warm-up, their highest and at the end."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    calls = [r for r in records if "peak" in r and r["n"] >= warmup]
    if not calls:
        print("\n  --peaks: no calls recorded after warm-up")
        return
    low, high = min(r["n"] for r in calls), max(r["n"] for r in calls)
    quarter = max(1, (high - low) // 4)
    print(f"\n  transient peaks per entry point (KiB above the traced memory at entry; events {low}-{high}; "
          "first quarter -> last quarter, median / highest; slope of the peak per 1,000 events):")
    by: dict[str, list[tuple[int, float]]] = {}
    for r in calls:
        by.setdefault(r["at"], []).append((r["n"], r["peak"] / 1024))
    rows = []
    for name, found in by.items():
        first = [p for n, p in found if n < low + quarter] or [0.0]
        last = [p for n, p in found if n >= high - quarter] or [0.0]
        slope = fit([(n / 1000, p) for n, p in found])[0] if len(found) >= 3 else 0.0
        rows.append((max(max(first), max(last)), name, len(found), first, last, slope))
    for _, name, count, first, last, slope in sorted(rows, reverse=True):
        print(f"   {name:<48} {count:>6} calls  {statistics.median(first):8.1f} / {max(first):8.1f}  ->  "
              f"{statistics.median(last):8.1f} / {max(last):8.1f}   slope {slope:+8.1f} KiB")
    backlogs = [r for r in records if r["at"] == "backlog"]
    warm = [r for r in backlogs if r["n"] >= warmup]
    if warm:
        print("  backlogs (end of warm-up / highest after / end): " + ", ".join(
            f"{key} {warm[0][key]} / {max(r[key] or 0 for r in warm)} / {warm[-1][key]}"
            for key in ("queue", "tracker", "held", "retries", "memo"))
              + f"; traced memory {warm[0]['traced'] / MIB:.1f} -> {warm[-1]['traced'] / MIB:.1f} MiB")


def growth(before: Path, after: Path, top: int = 25) -> None:
    import tracemalloc
    old, new = tracemalloc.Snapshot.load(f"{before}.snap"), tracemalloc.Snapshot.load(f"{after}.snap")
    print("\n  tracemalloc, end of warm-up -> end (grouped by traceback, biggest growth first):")
    for stat in new.compare_to(old, "traceback")[:top]:
        frames = [f"{f.filename.split('site-packages/')[-1].split('/automod/')[-1]}:{f.lineno}"
                  for f in stat.traceback[-6:]]
        print(f"   {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  {' <- '.join(reversed(frames))}")
    counts_old = json.loads(Path(f"{before}.types").read_text())
    counts_new = json.loads(Path(f"{after}.types").read_text())
    diffs = sorted(((counts_new.get(k, 0) - counts_old.get(k, 0), k) for k in set(counts_new) | set(counts_old)),
                   reverse=True)
    print("  live objects by type, end of warm-up -> end: "
          + ", ".join(f"{name} {diff:+d}" for diff, name in diffs[:top] if diff))


def scale(sandbox: SandboxInfo, root: Path, args: argparse.Namespace) -> None:
    """The report-page pass against the page's sections; the warning-level read against talk size."""
    gateway = WikiGateway(WikiSettings(name="sandboxwiki", api=sandbox.api_url), sandbox.pywikibot_dir)
    admin = WikiClient(sandbox, sandbox.admin)
    page = f"User:{sandbox.bot.name}/False positives scale {time.time_ns()}"
    parsed = parse_config(json.dumps({"enabled": True, "mode": "log-only", "false_positive_page": page,
                                     "warnings": {"levels": 4}}),
                          ("revertrisk-language-agnostic",))
    config = parsed.config
    assert config is not None, parsed
    store = Store(root / "scale.sqlite")
    reporters = [WikiClient(sandbox, ip=f"198.51.100.{i}") for i in range(1, 30)]
    times: list[tuple[int, float]] = []
    peaks: list[float] = []  # each pass's Python-heap peak above its start, MiB (issue 29: it grew with the page)
    import tracemalloc
    tracemalloc.start()
    for i in range(args.report_sections):
        client = reporters[i % len(reporters)]
        rev = client.post(action="edit", title=page, section="new", sectiontitle=f"Report {i} (r{1000 + i})",
                          text=f"<!-- automod-report rev={1000 + i} -->\nPlease restore it. ~~~~",
                          token=client.token())["edit"]["newrevid"]
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        process_report_page(gateway, store, "sandboxwiki", page, editor=client.name, config=config, rev_id=rev)
        times.append((i + 1, time.perf_counter() - started))
        peaks.append((tracemalloc.get_traced_memory()[1] - base) / MIB)
    tracemalloc.stop()
    size = len(admin.revisions(page, limit=1)[0]["slots"]["main"]["content"].encode())
    print(f"\nreport-page pass (one new report each; {args.report_sections} sections, {size / 1024:.0f} KB):")
    band = max(1, args.report_sections // 7)
    for start in range(0, len(times), band):
        chunk = times[start:start + band]
        print(f"  sections {chunk[0][0]:>4}-{chunk[-1][0]:<4} median {statistics.median(t for _, t in chunk):.3f} s, "
              f"memory peak {statistics.median(peaks[start:start + band]):.2f} MiB")
    store.close()

    user = "203.0.113.250"
    title = f"User talk:{user}"
    print(f"\nwarning-level read ({title}, growing to {args.talk_kb} KB):")
    marks = [kb for kb in (1, 5, 10, 20, 40, 60, 100, 200, 400) if kb <= args.talk_kb]
    chunk = "A long discussion line that only makes the talk page bigger. " * 16 + "\n"
    text, level, revisions = "", 0, []
    for kb in marks:
        while len(text) < kb * 1024:
            level = level % 4 + 1
            text += f"\n== Note {len(text)} ==\n<!-- Template:uw-vandalism{level} -->\n{chunk * 3}~~~~\n"
            revisions.append(admin.edit(title, text))
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            found = warning_level(gateway, config, user, time.time())
            runs.append(time.perf_counter() - started)
        print(f"  {len(text) / 1024:6.0f} KB  median {statistics.median(runs):.3f} s  (highest level found: "
              f"{found.highest}; {len(revisions)} revisions)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=10000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--backlog", type=int, default=20)
    parser.add_argument("--config-every", type=int, default=1000)
    parser.add_argument("--report-sections", type=int, default=140)
    parser.add_argument("--talk-kb", type=int, default=60)
    parser.add_argument("--report-share", type=float, default=0.04,
                        help="share of the traffic's steps that are false-positive reports (0: none; issue 29: "
                             "the report page's pass is what grows the worker's heap)")
    parser.add_argument("--no-soak", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--probe", action="store_true", help="sample the C heap and SQLite inside the bot")
    parser.add_argument("--peaks", action="store_true",
                        help="record each entry point's transient peak (tracemalloc, one frame) and the backlogs "
                             "in the bot, and print their trends")
    parser.add_argument("--max-in-flight", type=int, default=None,
                        help="the bot's scoring.max_in_flight (default: the settings' default)")
    parser.add_argument("--wrap", default=None,
                        help='a command the bot runs under, e.g. "heaptrack -o /tmp/soak" (its memory is sampled '
                             'in the bot itself); not with --probe or --tracemalloc')
    parser.add_argument("--wrap-stop", default="TERM", choices=("TERM", "KILL"),
                        help="how the wrapped bot is stopped: KILL makes heaptrack's 'leaked' list all memory "
                             "live at the end (a clean stop frees the connections and caches that may be what grows)")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="automod-bench-"))
    sandbox = up(root / "sandbox")
    try:
        (sandbox.dir / "conf/extra.php").write_text(LIMITS)
        if not args.no_soak:
            soak(sandbox, root, args)
        if not args.no_scale:
            scale(sandbox, root, args)
    finally:
        down(root / "sandbox")
        os.environ.pop("PYWIKIBOT_DIR", None)


if __name__ == "__main__":
    main()
