"""shell: real commands, the allow-list, timeouts and output caps."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from taskwarden.actions import ActionContext
from taskwarden.actions.shell import shell
from taskwarden.errors import ActionError

ALLOW = ["echo", "cat", "sh", sys.executable]


def make_ctx(tmp_path: Path, **settings: Any) -> ActionContext:
    return ActionContext(task_id=3, worker_id="w1", attempt=1, workspace=tmp_path / "ws",
                         artifacts_dir=tmp_path / "art",
                         settings={"shell_allow": ALLOW, **settings})


def test_allow_listed_echo_runs_in_the_workspace(tmp_path: Path) -> None:
    out = shell({"argv": ["echo", "hello", "$HOME", "; rm -rf /"]}, make_ctx(tmp_path))
    assert out["exit_code"] == 0
    assert out["stdout"] == "hello $HOME ; rm -rf /\n"  # no shell: nothing expanded
    assert (tmp_path / "ws").is_dir()
    pwd = shell({"argv": [sys.executable, "-c", "import os; print(os.getcwd())"]},
                make_ctx(tmp_path))
    assert pwd["stdout"].strip() == str((tmp_path / "ws").resolve())


def test_rm_is_refused_and_nothing_is_deleted(tmp_path: Path) -> None:
    victim = tmp_path / "ws" / "keep.txt"
    victim.parent.mkdir()
    victim.write_text("keep")
    with pytest.raises(ActionError, match=r"command 'rm' is not in \[actions\] shell_allow") as e:
        shell({"argv": ["rm", "-f", "keep.txt"]}, make_ctx(tmp_path))
    assert e.value.retryable is False
    assert victim.read_text() == "keep"


def test_empty_allow_list_means_off(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match=r"shell actions are off.*shell_allow list is empty"):
        shell({"argv": ["echo", "hi"]}, make_ctx(tmp_path, shell_allow=[]))
    with pytest.raises(ActionError, match="off"):
        shell({"argv": ["echo", "hi"]}, ActionContext(1, "w", 1, tmp_path, tmp_path, {}))


def test_a_string_argv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ActionError, match="not one string") as err:
        shell({"argv": "echo hi"}, make_ctx(tmp_path))
    assert err.value.retryable is False


def test_nonzero_exit_fails_retryable_with_stderr_tail(tmp_path: Path) -> None:
    script = "echo early >&2; echo 'the real reason' >&2; exit 3"
    with pytest.raises(ActionError, match="'sh' exited with 3: early\nthe real reason") as err:
        shell({"argv": ["sh", "-c", script]}, make_ctx(tmp_path))
    assert err.value.retryable is True


def test_stdin_env_and_output_caps(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, shell_max_output=10)
    out = shell({"argv": ["cat"], "input": "0123456789abcdef"}, ctx)
    assert out["stdout"] == "0123456789" and out["stdout_truncated"] is True
    err = shell({"argv": ["sh", "-c", 'echo "$GREETING" >&2'], "env": {"GREETING": "x" * 20 + "END"}},
                ctx)
    assert err["stderr"] == "xxxxxxEND\n" and err["stderr_truncated"] is True


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "ws" / "survivor"
    # The child spawns a grandchild that would write the marker after 0.5 s.
    script = f"(sleep 0.5; touch {marker}) & sleep 30"
    started = time.monotonic()
    with pytest.raises(ActionError, match=r"timed out after 0\.3 s") as err:
        shell({"argv": ["sh", "-c", script], "timeout": 0.3}, make_ctx(tmp_path))
    assert err.value.retryable is True
    assert time.monotonic() - started < 5
    time.sleep(1.0)  # proving an absence needs a wait past the moment it would appear
    assert not marker.exists()


def test_missing_command_is_not_retryable(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path, shell_allow=["no-such-command-here"])
    with pytest.raises(ActionError, match="not found on PATH") as err:
        shell({"argv": ["no-such-command-here"]}, ctx)
    assert err.value.retryable is False
