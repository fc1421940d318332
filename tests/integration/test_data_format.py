"""`helpdesk up` on a data directory of an incompatible version: refused before anything starts.

A fresh directory is stamped with this version's data format, and a desk starts again on its own.
"""

from __future__ import annotations

from pathlib import Path

from deploy.data_format import DATA_FORMAT, FORMAT_FILE
from tests.stack import desk_environment, helpdesk, leftovers, running_desk


def pre_release_data(data_dir: Path) -> None:
    """What a build before v1.0.0 left in .data: its stores, its payload key and its logs, no stamp."""
    (data_dir / "postgres").mkdir()
    (data_dir / "postgres" / "PG_VERSION").write_text("16\n")
    (data_dir / "nats").mkdir()
    (data_dir / "temporal.db").write_bytes(b"SQLite format 3\x00")
    (data_dir / "payload.key").write_text("a-key-of-old\n")
    (data_dir / "logs").mkdir()
    (data_dir / "logs" / "worker.log").write_text("an old worker's lines\n")


def files(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()}


async def test_up_refuses_a_pre_release_data_directory_says_what_to_do_and_starts_nothing(
    tmp_path: Path,
) -> None:
    pre_release_data(tmp_path)
    before = files(tmp_path)
    status, output = await helpdesk("up", env=desk_environment(tmp_path))
    assert status == 1, output
    assert f"helpdesk: {tmp_path} was written by a pre-release desk (before v1.0.0)" in output
    assert f"`rm -rf {tmp_path}`" in output and "Nothing was started." in output
    assert "Traceback" not in output
    assert not leftovers(tmp_path)
    after = files(tmp_path)
    assert after.pop("up.lock") and after == before  # no log, no stamp, no store touched


async def test_a_fresh_data_directory_is_stamped_and_the_desk_starts_again_on_it(tmp_path: Path) -> None:
    for _ in range(2):
        async with running_desk(tmp_path, services=False) as desk:
            assert desk.endpoints["postgres"]  # up: migrated, seeded, tokens issued
            assert (tmp_path / FORMAT_FILE).read_text() == f"{DATA_FORMAT}\n"
