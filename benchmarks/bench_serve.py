"""`automod serve` throughput and latency at 1 and 2 workers, side by side with in-process scoring.

Starts a sandbox wiki (MediaWiki + SQLite, 127.0.0.1), writes pages with a few revisions each,
and records the Action API answers the scorers ask for about them. The benchmark then serves
those recorded answers from a threaded replay server in its own process: `php -S` answers one
request at a time and would measure the sandbox, not the model server (on Wikimedia the API is
a cluster; Lift Wing's timeout for it is 5 s). Every scorer reads the same bytes it would read
from the wiki.

Measured, for the language-agnostic model (synthetic training as in tests/scoring/test_local_model.py)
and, with --multilingual, a multilingual model with an mBERT-shaped encoder
(benchmarks/bench_multilingual.py build_model_dir): predictions/s and p50/p99 latency of
 - in-process: one LocalScorer/MultilingualScorer called in a loop (what the bot does);
 - served: `automod serve --workers N` (N = 1, 2), a real child process on a free port,
   driven by CONCURRENCY client threads over HTTP;
 - served in Lift Wing's batch form (language-agnostic model): the same, each request naming
   20 revisions (``{"instances": [...]}``); p50/p99 are then per request of 20.

Run: python benchmarks/bench_serve.py [--requests 600] [--concurrency 8] [--multilingual]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

IGNORED = {"format", "formatversion"}


#: Scorer threads per server worker (--threads).
SCORER_THREADS = 1

def key(params: dict[str, Any]) -> str:
    return json.dumps(sorted((k, str(v)) for k, v in params.items() if k not in IGNORED))


def replay_server(recording: Path, port_file: Path) -> None:
    """Answer recorded Action API queries (POST form) from memory; run in its own process."""
    answers = {k: v.encode() for k, v in json.loads(recording.read_text()).items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()  # headers and body go out in two writes: no Nagle delay between them
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            body = answers.get(key(dict(parse_qsl(raw))), b'{"error": {"code": "unrecorded", "info": "?"}}')
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and every live descendant (Linux /proc): what the
    server spends per prediction, whatever else shares the machine."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def make_history(info: Any, pages: int, edits: int) -> list[int]:
    from support.wiki import WikiClient

    writer, anon = WikiClient(info, info.vandals[0]), WikiClient(info)
    revs = []
    body = " ".join(f"Sentence {i} about the town, its river and its [[market]]." for i in range(60))
    for p in range(pages):
        title = f"Bench serve {time.time_ns()} {p}"
        text = f"'''Town {p}''' is a town.<ref>Atlas.</ref>\n\n== History ==\n{body}\n\n[[Category:Towns]]"
        writer.edit(title, text)
        for e in range(edits):
            text += f"\nMore on the river ({e})."
            revs.append((anon if e % 3 == 2 else writer).edit(title, text if e % 3 != 2 else "lol rubbish"))
            if e % 3 == 2:
                revs.append(writer.edit(title, text + " "))
    return revs


def record(api_url: str, model_dirs: list[Path], revs: list[int], out: Path) -> None:
    """Score every revision with each model against the real wiki, keeping every answer."""
    from automod.serving.contract import WikiRoute
    from automod.serving.scorers import ModelSpec, api_query, build_scorer

    answers: dict[str, str] = {}
    real = api_query(api_url, "automod-bench/0.1")

    def recording(**params: Any) -> dict[str, Any]:
        data = real(**params)
        answers[key({"action": "query", **params})] = json.dumps(data)
        return data

    for model_dir in model_dirs:
        spec = ModelSpec(model_dir, {"sandbox": WikiRoute("sandboxwiki", api_url)}, {"sandbox": "en"}, "bench")
        warm = build_scorer(spec, "sandbox")
        warm.fetcher.query = recording  # type: ignore[attr-defined]  # the same scorer, recorded
        for rev in revs:
            warm.score("sandboxwiki", rev)
            warm.score("sandboxwiki", rev)  # as a scorer that has read the wiki's siteinfo already
            if model_dir.name.endswith("-la") or rev in revs[:8]:  # a fresh scorer's first request
                fresh = build_scorer(spec, "sandbox")
                fresh.fetcher.query = recording  # type: ignore[attr-defined]
                fresh.score("sandboxwiki", rev)
    out.write_text(json.dumps(answers))


def in_process(model_dir: Path, api_url: str, revs: list[int], n: int) -> dict[str, float]:
    from automod.serving.contract import WikiRoute
    from automod.serving.scorers import ModelSpec, build_scorer

    spec = ModelSpec(model_dir, {"sandbox": WikiRoute("sandboxwiki", api_url)}, {"sandbox": "en"}, "bench")
    scorer = build_scorer(spec, "sandbox")
    scorer.score("sandboxwiki", revs[0])  # warm up
    times = []
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        t = time.perf_counter()
        scorer.score("sandboxwiki", revs[i % len(revs)])
        times.append(time.perf_counter() - t)
    return {"rate": n / (time.perf_counter() - started), "p50": percentile(times, .5), "p99": percentile(times, .99),
            "cpu": (time.process_time() - cpu) / n}


def served(settings: Path, model_dir: Path, name: str, revs: list[int], n: int, workers: int,
           concurrency: int, batch: int = 1) -> dict[str, float]:
    """``n`` predictions from the server, one revision per request or ``batch`` per request."""
    import requests

    from support.serve_helpers import ServeProcess

    with ServeProcess(settings, model_dir, "--workers", str(workers), "--threads", str(SCORER_THREADS), name=name,
                      timeout=180) as server:
        url = f"{server.models_url}{name}:predict"
        for rev in revs[: 2 * workers * 4]:  # warm every worker's scorers
            requests.post(url, json={"rev_id": rev, "lang": "sandbox"}, timeout=60)
        times: list[float] = []
        lock, counter = threading.Lock(), iter(range(n // batch))
        errors: list[int] = []

        def body(i: int) -> dict[str, Any]:
            if batch == 1:
                return {"rev_id": revs[i % len(revs)], "lang": "sandbox"}
            return {"instances": [{"rev_id": revs[(i * batch + j) % len(revs)], "lang": "sandbox"}
                                  for j in range(batch)]}

        def client() -> None:
            session = requests.Session()
            session.trust_env = False
            for i in counter:
                t = time.perf_counter()
                resp = session.post(url, json=body(i), timeout=60)
                scored = batch == 1 or len(resp.json().get("predictions", ())) == batch
                with lock:
                    times.append(time.perf_counter() - t)
                    if resp.status_code != 200 or not scored:
                        errors.append(resp.status_code)

        threads = [threading.Thread(target=client) for _ in range(concurrency)]
        started, cpu = time.perf_counter(), cpu_seconds(server.proc.pid)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds(server.proc.pid) - cpu
    if errors:
        raise SystemExit(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    n = n // batch * batch
    return {"rate": n / elapsed, "p50": percentile(times, .5), "p99": percentile(times, .99), "cpu": cpu / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="predictions per measurement")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads against the server")
    parser.add_argument("--multilingual", action="store_true", help="also an mBERT-shaped multilingual model")
    parser.add_argument("--threads", type=int, default=1,
                        help="scorer threads per server worker (1 keeps each worker on one core)")
    parser.add_argument("--replay-server", nargs=2, metavar=("RECORDING", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global SCORER_THREADS
    SCORER_THREADS = args.threads
    if args.replay_server:
        replay_server(Path(args.replay_server[0]), Path(args.replay_server[1]))
        return
    import yaml

    from automod.sandbox import down, up
    from automod.training import train_model
    from support.datasets import synthetic_dataset

    root = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    info = up(root / "sandbox")
    replay = None
    try:
        models = [("language-agnostic", "revertrisk-language-agnostic",
                   train_model(synthetic_dataset(2000), "bench-la", root / "models").model_dir)]
        if args.multilingual:
            from bench_multilingual import build_model_dir
            models.append(("multilingual", "revertrisk-multilingual", build_model_dir(root / "models" / "bench-ml")))
        revs = make_history(info, pages=6, edits=9)
        recording = root / "recording.json"
        record(info.api_url, [m[2] for m in models], revs, recording)
        port_file = root / "replay.port"
        replay = subprocess.Popen([sys.executable, __file__, "--replay-server", str(recording), str(port_file)])
        while not port_file.exists() or not port_file.read_text():
            time.sleep(0.05)
        api = f"http://127.0.0.1:{port_file.read_text()}/w/api.php"
        data = yaml.safe_load(info.settings.read_text())
        data["wikis"][0]["api"] = api
        settings = root / "settings.yaml"
        settings.write_text(yaml.safe_dump(data))
        rows = []
        for kind, name, model_dir in models:
            n = args.requests if kind == "language-agnostic" else max(60, args.requests // 10)
            rows.append((kind, "in-process (1 scorer)", in_process(model_dir, api, revs, n)))
            for workers in (1, 2):
                rows.append((kind, f"automod serve, {workers} worker(s)",
                             served(settings, model_dir, name, revs, n, workers, args.concurrency)))
            if kind == "language-agnostic":  # the multilingual model has no batch form (nor on Lift Wing)
                for workers in (1, 2):
                    rows.append((kind, f"  batches of 20, {workers} worker(s)",
                                 served(settings, model_dir, name, revs, n, workers, args.concurrency, batch=20)))
    finally:
        if replay is not None:
            replay.terminate()
            replay.wait(10)
        down(root / "sandbox")
    print(f"\n{os.cpu_count()} CPUs; {len(revs)} revisions replayed from the sandbox wiki; "
          f"{args.concurrency} client threads against the server\n")
    print(f"{'model':<18} {'scoring':<28} {'pred/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/pred':>12} "
          f"{'pred/s per core':>16}")
    for kind, how, r in rows:
        print(f"{kind:<18} {how:<28} {r['rate']:>8.1f} {r['p50'] * 1000:>8.1f} {r['p99'] * 1000:>8.1f} "
              f"{r['cpu'] * 1000:>12.1f} {1 / r['cpu']:>16.1f}")
    for kind in dict.fromkeys(k for k, _, _ in rows):
        one, two = (r for k, how, r in rows if k == kind and how.startswith("automod serve"))
        print(f"\n{kind}: 2 workers give {two['rate'] / one['rate']:.2f}x the throughput of 1, "
              f"at {two['cpu'] / one['cpu']:.2f}x the server CPU per prediction.")
        batched = [r for k, how, r in rows if k == kind and "batches" in how]
        if batched:
            print(f"{kind}, batches of 20: {batched[0]['rate'] / one['rate']:.2f}x the predictions/s of single "
                  f"requests at 1 worker ({batched[1]['rate'] / two['rate']:.2f}x at 2), at "
                  f"{batched[0]['cpu'] / one['cpu']:.2f}x the server CPU per prediction.")
    print("\nNote: CPU ms/pred is the scorer's (in-process) or the whole server process tree's CPU time "
          f"per prediction. The client threads, the replayed wiki and the workers share this machine's "
          f"{os.cpu_count()} cores, so a second worker only raises throughput when a core is free for it. "
          "On a cluster each worker gets its own core: a rate of R predictions/s needs about "
          "R x CPU ms/pred / 1000 cores of workers (R / 'pred/s per core'), plus headroom for peaks.")

if __name__ == "__main__":
    main()
