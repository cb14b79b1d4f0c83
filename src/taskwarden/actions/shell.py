"""``shell``: run one allow-listed command, without a shell, in the workspace.

Params: ``argv`` (list of strings; a single string is refused so nothing is
ever word-split or shell-interpreted), ``timeout`` (seconds, default 60),
``input`` (text fed to stdin; otherwise stdin is empty), ``env`` (extra
variables, strings only).

``argv[0]`` must appear, spelled exactly the same, in
``settings["shell_allow"]``; an empty list switches the action off. The
command runs in its own process group with ``cwd`` = the workspace, and the
whole group is killed when the timeout passes, so children it spawned do not
outlive it.

Output is spooled to temporary files, so memory stays bounded whatever the
command prints: the result keeps the *first* ``shell_max_output`` bytes of
stdout (the data a task usually wants) and the *last* of stderr (where the
reason for a failure is). A non-zero exit fails retryable with the stderr
tail in the message.

Settings read: ``shell_allow`` (list of command names), ``shell_max_output``
(bytes per stream, default 64 KiB).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from typing import IO, Any

from taskwarden.actions.registry import ActionContext, ActionFunc
from taskwarden.errors import ActionError

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_OUTPUT = 64 * 1024
MESSAGE_TAIL = 500


def _bad(message: str) -> ActionError:
    return ActionError(f"shell: {message}", retryable=False)


def _argv(params: dict[str, Any], allow: list[str]) -> list[str]:
    argv = params.get("argv")
    if isinstance(argv, str):
        raise _bad("'argv' must be a list of strings, not one string: no shell parses it here")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise _bad(f"'argv' must be a non-empty list of strings, got {argv!r}")
    if not allow:
        raise _bad("shell actions are off: the config's [actions] shell_allow list is empty")
    if argv[0] not in allow:
        raise _bad(f"command {argv[0]!r} is not in [actions] shell_allow {sorted(allow)}")
    return argv


def _env(params: dict[str, Any]) -> dict[str, str]:
    extra = params.get("env") or {}
    if not isinstance(extra, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
        raise _bad(f"'env' must map strings to strings, got {extra!r}")
    return {**os.environ, **extra}


def _head(fh: IO[bytes], cap: int) -> tuple[str, bool]:
    size = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    return fh.read(cap).decode("utf-8", errors="replace"), size > cap


def _tail(fh: IO[bytes], cap: int) -> tuple[str, bool]:
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - cap))
    return fh.read().decode("utf-8", errors="replace"), size > cap


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def shell(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Run ``argv`` and return its exit code and capped output; non-zero exit fails."""
    argv = _argv(params, list(ctx.settings.get("shell_allow") or []))
    timeout = params.get("timeout", DEFAULT_TIMEOUT)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise _bad(f"'timeout' must be a number > 0, got {timeout!r}")
    stdin_text = params.get("input")
    if stdin_text is not None and not isinstance(stdin_text, str):
        raise _bad(f"'input' must be a string, got {type(stdin_text).__name__}")
    env = _env(params)
    cap = int(ctx.settings.get("shell_max_output", DEFAULT_MAX_OUTPUT))
    ctx.workspace.mkdir(parents=True, exist_ok=True)

    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                argv, cwd=ctx.workspace, env=env, stdout=out, stderr=err,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                start_new_session=True)
        except FileNotFoundError as exc:
            raise _bad(f"command {argv[0]!r} not found on PATH") from exc
        except PermissionError as exc:
            raise _bad(f"command {argv[0]!r} is not executable: {exc}") from exc
        try:
            proc.communicate(stdin_text.encode() if stdin_text is not None else None,
                             timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ActionError(f"shell: {argv[0]!r} timed out after {timeout:g} s; "
                              "its process group was killed") from None
        except BaseException:
            _kill_group(proc)
            raise
        stdout, out_cut = _head(out, cap)
        stderr, err_cut = _tail(err, cap)

    result = {"argv": argv, "exit_code": proc.returncode, "stdout": stdout, "stderr": stderr,
              "stdout_truncated": out_cut, "stderr_truncated": err_cut,
              "duration_s": round(time.monotonic() - started, 3)}
    if proc.returncode != 0:
        tail = stderr[-MESSAGE_TAIL:].strip() or "(no stderr)"
        raise ActionError(f"shell: {argv[0]!r} exited with {proc.returncode}: {tail}")
    return result


ACTIONS: dict[str, ActionFunc] = {"shell": shell}
