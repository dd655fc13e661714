"""Starting the dataflow: cluster options, the recovery directory, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataflows.run import ClusterOptions, RecoveryDirError, prepare_recovery
from vigil.cli import app
from vigil.settings import get_settings


def test_recovery_dir_is_made_once_and_tied_to_the_slot_count(tmp_path: Path) -> None:
    directory = tmp_path / "recovery"
    with pytest.raises(RecoveryDirError, match="no partitions"):
        prepare_recovery(directory, 32, 2, initialise=False)
    config = prepare_recovery(directory, 32, 2)
    assert Path(config.db_dir) == directory
    assert sorted(p.name for p in directory.glob("part-*")) == ["part-0.sqlite3", "part-1.sqlite3"]
    prepare_recovery(directory, 32, 4)  # existing partitions are kept as they are
    assert len(list(directory.glob("part-*"))) == 2
    with pytest.raises(RecoveryDirError, match="VIGIL_DATAFLOW_PARTITIONS=32, not 16"):
        prepare_recovery(directory, 16, 2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"workers_per_process": 0}, "workers"),
        ({"addresses": ("a:1", "b:2")}, "needs --process-id"),
        ({"process_id": 0, "addresses": ("a:1",)}, "every process"),
        ({"process_id": 2, "addresses": ("a:1", "b:2")}, "0..1"),
    ],
)
def test_bad_cluster_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClusterOptions(**options)
    assert ClusterOptions(2, 1, ("a:1", "b:2")).total_workers == 4


def test_cli_refuses_bad_input_with_a_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_LOG_JSON", "false")
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        missing = runner.invoke(app, ["dataflow", "--cameras-file", str(tmp_path / "no.json")])
        assert missing.exit_code == 2
        assert "cannot read cameras file" in missing.output
        both = runner.invoke(app, ["dataflow", "-p", "2", "-i", "0", "-a", "a:1;b:2"])
        assert both.exit_code == 2 and "don't pass -i/-a" in both.output
    finally:
        get_settings.cache_clear()
