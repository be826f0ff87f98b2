"""config/kserve/ is deployable as-is: the InferenceService and the container build file parse,
and their names, ports and arguments agree with what `automod serve` accepts and defaults to.
No cluster is needed: the container's command line is parsed by automod's own parser."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from automod.cli import build_parser
from automod.serving import DEFAULT_PORT
from automod.serving.contract import LIFTWING_NAMES

ROOT = Path(__file__).resolve().parents[2]
KSERVE = ROOT / "config/kserve"


def _container() -> dict:
    doc = yaml.safe_load((KSERVE / "inferenceservice.yaml").read_text())
    assert doc["apiVersion"] == "serving.kserve.io/v1beta1" and doc["kind"] == "InferenceService"
    containers = doc["spec"]["predictor"]["containers"]
    assert len(containers) == 1 and containers[0]["name"] == "kserve-container"  # a custom predictor
    return containers[0]


def test_the_inference_service_runs_automod_serve_on_kserves_port():
    container = _container()
    args = build_parser().parse_args(container["args"])
    assert args.command == "serve" and args.model.startswith("local:")
    assert args.port == DEFAULT_PORT == 8080
    assert [p["containerPort"] for p in container["ports"]] == [DEFAULT_PORT]
    assert args.host == "0.0.0.0" and args.allow_remote  # in a pod, explicitly allowed
    assert args.models_dir == "/mnt/models" and Path(args.settings).parent.as_posix() == "/etc/automod"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/mnt/models", "/etc/automod"} <= mounts
    ready = container["readinessProbe"]["httpGet"]
    assert ready["port"] == DEFAULT_PORT and ready["path"] == f"/v1/models/{LIFTWING_NAMES['language-agnostic']}"
    assert container["livenessProbe"]["httpGet"] == {"path": "/", "port": DEFAULT_PORT}


def test_the_container_build_file_matches_the_manifest_and_the_extras():
    text = (KSERVE / "Containerfile").read_text()
    assert re.search(rf"^EXPOSE {DEFAULT_PORT}$", text, re.M)
    assert re.search(r'^ENTRYPOINT \["automod"\]$', text, re.M)
    extras = re.search(r"^ARG EXTRAS=(\S+)$", text, re.M)
    assert extras is not None
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras.group(1).split(",")) <= set(declared) and "serve" in extras.group(1)
    cmd = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert cmd is not None
    args = build_parser().parse_args(yaml.safe_load(cmd.group(1)))
    assert args.command == "serve" and args.port == DEFAULT_PORT
    image = _container()["image"]
    assert image.startswith("automod-serve:") and f"-t {image}" in text
