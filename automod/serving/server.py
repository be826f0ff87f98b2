"""``automod serve``: one local model behind Lift Wing's contract on KServe's model server.

KServe's ``ModelServer`` binds every interface (``0.0.0.0``); a bot's model server has no
authentication, so this one binds 127.0.0.1 unless the operator explicitly allows another
address (a container in a cluster, where the pod network is the boundary). With more than
one worker, KServe binds the socket once and spawns worker processes that share it, so the
CPU-bound scoring runs in parallel.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automod.errors import ConfigError
from automod.scoring import UnknownModel
from automod.serving.contract import DEFAULT_HOST, DEFAULT_PORT, WikiRoute
from automod.serving.limits import REQUEST_TIMEOUT_SECONDS, limit
from automod.serving.model import RevertRiskModel, kserve
from automod.serving.scorers import ModelSpec

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServeOptions", "build_model", "is_loopback", "serve"]

log = logging.getLogger("automod.serving.server")



@dataclass(frozen=True)
class ServeOptions:
    """Everything ``automod serve`` was told."""

    model_dir: Path
    routes: dict[str, WikiRoute]
    content_langs: dict[str, str]
    user_agent: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    threads: int = 2
    allow_remote: bool = False
    name: str | None = None  # served name; default Lift Wing's name for the model's kind
    request_timeout: float = REQUEST_TIMEOUT_SECONDS  # a client's time to send a whole request


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_model(options: ServeOptions) -> RevertRiskModel:
    """The KServe model for ``options``, loaded (fails closed on a bad model or no wiki)."""
    if not (options.model_dir / "model_card.json").is_file():
        raise UnknownModel(f"no local model in {options.model_dir} (no model_card.json)")
    if not options.routes:
        raise ConfigError("the settings name no Wikipedia-style wiki (<lang>wiki) to read revisions from")
    spec = ModelSpec(model_dir=options.model_dir, routes=options.routes, content_langs=options.content_langs,
                     user_agent=options.user_agent, threads=options.threads)
    model = RevertRiskModel(spec, options.name)
    model.load()
    return model


class _BoundModelServer(kserve.ModelServer):
    """KServe's ModelServer (REST only) on the host it is given instead of 0.0.0.0, with the
    request limits of :mod:`.limits` (bodies capped, slow clients timed out)."""

    def __init__(self, host: str, request_timeout: float = REQUEST_TIMEOUT_SECONDS, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.request_timeout = request_timeout

    def start(self, models: list[RevertRiskModel]) -> None:
        from kserve.model_server import FASTAPI_APP_IMPORT_STRING
        from kserve.protocol.rest.multiprocess.server import RESTServerMultiProcess
        from kserve.protocol.rest.server import RESTServer

        for model in models:
            self.register_model(model)
            model.enable_latency_logging = self.enable_latency_logging
        common = dict(access_log_format=self.access_log_format, workers=self.workers,
                      grace_period=self.grace_period, event_loop=self.event_loop,
                      timeout_keep_alive=self.timeout_keep_alive)
        if self.workers > 1:
            server = RESTServerMultiProcess(FASTAPI_APP_IMPORT_STRING, self.dataplane,
                                            self.model_repository_extension, self.http_port, **common)
            for config in _configs(server):
                config.host = self.host
                limit(config, self.request_timeout)
            self.servers.append(server.start())
            self._rest_multiprocess_server = server
        else:
            single = RESTServer(FASTAPI_APP_IMPORT_STRING, self.dataplane, self.model_repository_extension,
                                self.http_port, **common)
            single.config.host = self.host
            limit(single.config, self.request_timeout)
            self.servers.append(single.start())
            self._rest_server = single
        self.setup_event_loop()
        self.register_signal_handler()
        asyncio.run(self._serve())


def _configs(server: object) -> list[Any]:
    """The uvicorn configs inside KServe's multi-process server (one RESTServer it wraps)."""
    return [inner.config for inner in vars(server).values() if hasattr(inner, "config")]


def serve(options: ServeOptions) -> None:
    """Serve until SIGINT/SIGTERM. Refuses a non-loopback host unless ``allow_remote``."""
    if not options.allow_remote and not is_loopback(options.host):
        raise ConfigError(f"refusing to serve on {options.host}: the server has no authentication; "
                          "use 127.0.0.1, or --allow-remote inside a cluster")
    if options.workers < 1 or options.threads < 1:
        raise ConfigError("--workers and --threads must be at least 1")
    model = build_model(options)
    log.info("serving %s (%s, version %s) for %s on http://%s:%d with %d worker(s)", model.name,
             options.model_dir.name, model.version, ", ".join(sorted(options.routes)), options.host,
             options.port, options.workers)
    server = _BoundModelServer(options.host, options.request_timeout, http_port=options.port, workers=options.workers,
                               enable_grpc=False)
    local_alias = options.model_dir.name
    if local_alias != model.name:
        server.register_model(model, name=local_alias)  # also /v1/models/<local name>:predict
    server.start([model])
