"""Store faults end in one clear error, not a traceback (issue 15)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from automod.errors import StoreError
from automod.store import Store
from support.filesystems import fill, tmpfs
from support.settings_files import write_settings


def test_a_store_that_cannot_be_created_is_one_clear_error(tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's directory should be")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(blocker / "automod.sqlite")


def test_a_store_that_is_not_sqlite_is_one_clear_error_and_is_left_as_it_was(tmp_path):
    path = tmp_path / "automod.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_automod_run_on_an_unusable_store_prints_one_error_line(tmp_path):
    settings = yaml.safe_load(open("config/settings.example.yaml").read())
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings["store"] = str(blocker / "automod.sqlite")
    settings["stream"] = {**settings.get("stream", {}), "url": "http://127.0.0.1:9/v2/stream/recentchange"}
    path = tmp_path / "settings.yaml"
    write_settings(path, settings)
    result = subprocess.run([sys.executable, "-m", "automod", "run", "--settings", str(path), "--dry-run",
                             "--exit-after", "5"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [err for err in result.stderr.splitlines() if err.startswith("Error:")][0].startswith("Error: cannot create")


def test_a_full_disk_is_one_store_error_that_leaves_nothing_half_written(tmp_path):
    """Needs root (a tmpfs to fill); the same store writes again once space is back."""
    with tmpfs(tmp_path / "tmpfs") as fs, Store(fs / "automod.sqlite") as store:
        store.save_position("url", "before", None)
        filler = fill(fs)
        with pytest.raises(StoreError, match=f"cannot write the store {re.escape(str(store.path))}: No space left"):
            with store.atomic():
                store.save_position("url", "lost", None)
                store.record_malformed("url", "e1", "x" * 100_000, "a write that needs new pages")
        assert store.position("url").event_id == "before"  # all or nothing
        filler.unlink()
        store.save_position("url", "after", None)
        assert store.position("url").event_id == "after"
