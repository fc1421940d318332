"""The data directory's format: a fresh one is stamped, this version's runs, any other is refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deploy.data_format import (
    DATA_FORMAT,
    FORMAT_FILE,
    PRE_RELEASE_STORES,
    IncompatibleData,
    ensure_data_format,
)


def contents(data_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text() if p.is_file() else "<dir>" for p in sorted(data_dir.iterdir())}


def stamped(data_dir: Path) -> str:
    return (data_dir / FORMAT_FILE).read_text()


def test_a_fresh_directory_is_stamped_with_this_format(tmp_path: Path) -> None:
    ensure_data_format(tmp_path)
    assert stamped(tmp_path) == f"{DATA_FORMAT}\n"
    assert sorted(contents(tmp_path)) == [FORMAT_FILE]  # no partial file left beside it


def test_logs_spans_and_pid_files_alone_are_no_data(tmp_path: Path) -> None:
    for directory in ("logs", "spans", "run"):
        (tmp_path / directory).mkdir()
    (tmp_path / "up.lock").write_text("4242\n")
    (tmp_path / "endpoints.json").write_text("{}")
    ensure_data_format(tmp_path)
    assert stamped(tmp_path) == f"{DATA_FORMAT}\n"


def test_a_directory_of_this_format_runs_again_unchanged(tmp_path: Path) -> None:
    ensure_data_format(tmp_path)
    (tmp_path / "postgres").mkdir()
    before = contents(tmp_path)
    ensure_data_format(tmp_path)
    assert contents(tmp_path) == before


@pytest.mark.parametrize("store", PRE_RELEASE_STORES)
def test_a_pre_release_directory_is_refused_with_what_to_do_and_left_as_it_is(
    tmp_path: Path, store: str
) -> None:
    (tmp_path / store).mkdir()
    (tmp_path / "logs").mkdir()
    before = contents(tmp_path)
    with pytest.raises(IncompatibleData) as refused:
        ensure_data_format(tmp_path)
    message = str(refused.value)
    assert f"{tmp_path} was written by a pre-release desk (before v1.0.0)" in message
    assert f"`rm -rf {tmp_path}`" in message and "HELPDESK_DATA_DIR" in message
    assert "Nothing was started." in message
    assert contents(tmp_path) == before  # not stamped: it stays refused


@pytest.mark.parametrize(
    ("stamp", "said"),
    [
        (f"{DATA_FORMAT - 1}\n", f"an earlier, incompatible version (data format {DATA_FORMAT - 1})"),
        (f"{DATA_FORMAT + 1}\n", f"a newer version of the desk (data format {DATA_FORMAT + 1}"),
        ("garbled\n", f"an unreadable {FORMAT_FILE} file"),
    ],
)
def test_a_directory_of_another_format_is_refused(tmp_path: Path, stamp: str, said: str) -> None:
    (tmp_path / FORMAT_FILE).write_text(stamp)
    with pytest.raises(IncompatibleData, match="Nothing was started") as refused:
        ensure_data_format(tmp_path)
    assert said in str(refused.value)
    assert stamped(tmp_path) == stamp


def test_the_projects_own_data_directory_is_told_make_distclean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("deploy.data_format.PROJECT_DATA_DIR", tmp_path)
    (tmp_path / "temporal.db").write_text("")
    with pytest.raises(IncompatibleData, match=re.escape("`make distclean` (which also removes .venv)")):
        ensure_data_format(tmp_path)
