"""Store faults at run time (issue 15): a store that fills up or turns read-only while the bot
follows the stream stops it with one clear error line and exit 1, with no rollback whose
intent is not recorded; once the fault clears, a restart decides the edit exactly once.

Real file systems, not mocks: a small tmpfs to fill, and an ext4 image on a loop device that a
disk error turns read-only, as the kernel does on a real server (``mount -o remount,ro`` is
refused while the bot holds the store open for writing). Both need root; else skipped.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from support.filesystems import fill, tmpfs
from support.filesystems import mount as _mount
from support.filesystems import unmount as _unmount
from support.moderation_helpers import REVERTING, Bot, bot_settings, launch_bot, set_config, start_at_stream_end
from support.relay_helpers import wait_for
from support.settings_files import write_settings

pytestmark = pytest.mark.sandbox

@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """The store's own small disk, to fill while the bot runs."""
    with tmpfs(tmp_path / "tmpfs") as mount_point:
        yield mount_point


@pytest.fixture
def ext4_image(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(image, mount point): a 16 MiB ext4 mounted ``errors=remount-ro`` on a loop device."""
    image, mount_point = tmp_path / "disk.img", tmp_path / "ext4"
    mount_point.mkdir()
    with image.open("wb") as file:
        file.truncate(16 << 20)
    try:
        subprocess.run(["mkfs.ext4", "-q", str(image)], check=True, capture_output=True)
    except FileNotFoundError:
        pytest.skip("mkfs.ext4 is not installed")
    _mount("-o", "loop,errors=remount-ro", str(image), str(mount_point))
    try:
        yield image, mount_point
    finally:
        if os.path.ismount(mount_point):
            _unmount(mount_point)


def turn_read_only(mount_point: Path) -> None:
    """A disk error on the ext4 (its sysfs test trigger): the kernel turns it read-only."""
    device = subprocess.run(["findmnt", "-no", "SOURCE", str(mount_point)], capture_output=True, text=True,
                            check=True).stdout.strip()
    trigger = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
    if not trigger.exists():
        pytest.skip(f"this kernel has no {trigger}")
    trigger.write_text("automod test: the disk fails\n")
    with pytest.raises(OSError) as refused:
        (mount_point / "probe").write_text("x")
    assert refused.value.errno == errno.EROFS


def start(sandbox, tmp_path: Path, liftwing, store: Path, *, fresh_position: bool) -> Bot:
    """`automod run` with its store at ``store`` (from the stream's end, or its saved position)."""
    if fresh_position:
        start_at_stream_end(sandbox, store.parent)  # writes <dir>/automod.sqlite: this store
    settings = bot_settings(sandbox, tmp_path, liftwing.url)
    data = yaml.safe_load(settings.read_text())
    data["store"] = str(store)
    write_settings(settings, data)
    return launch_bot(sandbox, tmp_path, settings, fresh_position=False)


def read(store: Path, sql: str, *args: object) -> tuple | None:
    """One row of the store, read-only (the bot may be running)."""
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        return db.execute(sql, args).fetchone()


def settled(store: Path, rev: int) -> bool:
    """``rev`` is decided and the stream position saved after it: the bot is idle."""
    decided = read(store, "SELECT decided_at FROM decisions WHERE rev_id = ?", rev)
    saved = read(store, "SELECT max(updated_at) FROM stream_positions")
    return decided is not None and saved is not None and saved[0] is not None and saved[0] >= decided[0]


def stops_with_one_error_line(bot: Bot, store: Path, rev: int, problem: str) -> None:
    """The bot exits 1 by itself; its stderr has one ``Error:`` line, naming the store, the
    problem and the edit it could not finish, and no traceback."""
    wait_for(lambda: bot.proc.poll() is not None, timeout=20)
    code = bot.stop()
    log = bot.log.read_text()
    errors = [line for line in log.splitlines() if line.startswith("Error:")]
    assert code == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    assert len(errors) == 1, log[-3000:]
    assert str(store) in errors[0] and problem in errors[0] and f"r{rev}" in errors[0], errors[0]


def no_rollback_without_intent(admin, title: str, rev: int, store: Path) -> None:
    """The vandal edit is still on top, or the store holds the intent to roll it back."""
    if admin.revisions(title, limit=1)[0]["revid"] == rev:
        return
    row = read(store, "SELECT outcome FROM decisions WHERE rev_id = ?", rev)
    assert row is not None and row[0] in ("reverting", "reverted"), f"r{rev} rolled back without an intent"


def fault_then_restart(sandbox, wiki, liftwing, title: str, tmp_path: Path, store: Path, *,
                       fault: Callable[[], None], problem: str, recover: Callable[[], None]) -> None:
    """The bot follows the stream, idle; ``fault`` hits its store; a vandal edit comes. It
    stops loudly without acting; after ``recover``, a restart decides that edit exactly once."""
    admin, vandal = wiki(sandbox.admin), wiki(sandbox.vandals[0])
    set_config(admin, REVERTING)
    admin.edit(title, "An article.")
    liftwing.clear_script()
    bots = [start(sandbox, tmp_path, liftwing, store, fresh_position=True)]
    try:
        good = admin.edit(title, "An article. A good addition.")
        bots[0].decision(good)
        wait_for(lambda: settled(store, good))
        fault()
        rev = vandal.edit(title, "An article. A good addition. VANDALISM")
        stops_with_one_error_line(bots[0], store, rev, problem)
        no_rollback_without_intent(admin, title, rev, store)

        recover()
        bots.append(start(sandbox, tmp_path, liftwing, store, fresh_position=False))
        assert bots[-1].decision(rev)["decision"] == "reverted"
    finally:
        for bot in bots:
            bot.stop()
    assert [r["user"] for r in admin.revisions(title)].count(sandbox.bot.name) == 1  # one rollback
    assert [line["decision"] for bot in bots for line in bot.decisions(rev)] == ["reverted"]
    assert read(store, "SELECT outcome FROM decisions WHERE rev_id = ?", rev) == ("reverted",)
    assert read(store, "SELECT count(*) FROM actions WHERE rev_id = ? AND kind = 'rollback' AND result = 'done'",
                rev) == (1,)


def test_a_full_disk_stops_the_bot_loudly_and_the_edit_is_decided_once_space_is_back(
        sandbox, wiki, liftwing, unique_title, small_fs, tmp_path):
    filler: list[Path] = []
    fault_then_restart(sandbox, wiki, liftwing, unique_title, tmp_path, small_fs / "automod.sqlite",
                       fault=lambda: filler.append(fill(small_fs)), problem="No space left on device",
                       recover=lambda: filler[0].unlink())


def test_a_store_turned_read_only_stops_the_bot_loudly_and_the_edit_is_decided_after_remount(
        sandbox, wiki, liftwing, unique_title, ext4_image, tmp_path):
    image, mount_point = ext4_image

    def remount() -> None:  # the operator repairs the disk and mounts it again
        _unmount(mount_point)
        _mount("-o", "loop,errors=remount-ro", str(image), str(mount_point))

    fault_then_restart(sandbox, wiki, liftwing, unique_title, tmp_path, mount_point / "automod.sqlite",
                       fault=lambda: turn_read_only(mount_point), problem="Read-only file system", recover=remount)
