"""One bot per store (issue 15): a second `automod run` on the same store refuses to start
and names the running process; after `kill -9` the next run starts at once."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from automod.errors import StoreError
from automod.store import InstanceLock
from support.moderation_helpers import REVERTING, set_config

pytestmark = pytest.mark.sandbox


def test_a_second_run_on_the_same_store_refuses_and_a_killed_one_never_blocks(sandbox, wiki, unique_title,
                                                                            bot_factory, tmp_path):
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    admin.edit(unique_title, "An article.")
    first = bot_factory()
    settings = sorted(tmp_path.glob("settings*.yaml"))[-1]
    second = subprocess.run([sys.executable, "-m", "automod", "run", "--settings", str(settings)],
                            capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert f"another automod run (pid {first.proc.pid})" in second.stderr
    assert second.stdout == ""  # it decided nothing

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    restarted = bot_factory(fresh_position=False)  # no stale lock: it connects at once
    rev = vandal.edit(unique_title, "An article. VANDALISM")
    assert restarted.decision(rev)["decision"] == "reverted"


def test_the_lock_names_its_holder_and_is_free_once_released(tmp_path):
    store = tmp_path / "automod.sqlite"
    with InstanceLock(store):
        assert InstanceLock.holder(store) is not None
        with pytest.raises(StoreError, match="another automod run"):
            InstanceLock(store).acquire()
    assert InstanceLock.holder(store) is None
    with InstanceLock(store):  # taken again after release
        pass
