"""Backup while the server runs, verified restore, and refusals that change nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stackutil import Stack


def count_tasks(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM tasks").fetchone()[0]


def test_online_backup_then_verified_restore(stack: Stack) -> None:
    server = stack.start_server()
    stack.client.enqueue_batch([{"action": "noop"}] * 25)
    result = stack.cli("backup")
    assert result.returncode == 0, result.stderr
    copy = Path(result.stdout.split("verified: ")[1].split()[0])
    assert count_tasks(copy) == 25

    stack.client.enqueue_batch([{"action": "noop"}] * 5)  # these are not in the backup
    refused = stack.cli("restore", str(copy))
    assert refused.returncode == 1 and "taskwarden down" in refused.stderr
    assert stack.client.stats()["queue"]["by_state"]["queued"] == 30  # nothing changed

    server.terminate()
    server.wait(10)
    restored = stack.cli("restore", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert "restored 25 tasks" in restored.stdout
    stack.start_server()
    assert stack.client.stats()["queue"]["by_state"]["queued"] == 25
    kept = sorted((stack.data_dir / "backups").glob("pre-restore-*.db"))
    assert kept and count_tasks(kept[0]) == 30


def test_restore_refuses_a_file_that_is_not_a_taskwarden_database(stack: Stack, tmp_path: Path) -> None:
    stack.start_server()
    stack.client.enqueue("noop")
    stack.procs[0].terminate()
    stack.procs[0].wait(10)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    before = (stack.data_dir / "taskwarden.db").read_bytes()
    result = stack.cli("restore", str(junk))
    assert result.returncode == 1
    assert "not a taskwarden database" in result.stderr
    assert (stack.data_dir / "taskwarden.db").read_bytes() == before
    missing = stack.cli("restore", str(tmp_path / "nope.db"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
