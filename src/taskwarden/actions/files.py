"""``file.*`` actions: read and change files, confined to the task's workspace.

Every path parameter is taken relative to ``ctx.workspace`` (created when
missing). A path that resolves outside it — ``../x``, an absolute path
elsewhere, or a symlink whose target lies outside — is refused with a
non-retryable :class:`ActionError` naming the path, before anything is touched.

Symlinks that stay inside the workspace are followed for reading and writing;
``file.delete`` and ``file.move`` act on the link itself, not its target.
The check happens just before the operation, so a process that swaps a
directory for a symlink in between could still win that race: the workspace
is meant to belong to the worker, not to untrusted concurrent writers.

Settings read: ``file_max_read`` (bytes, default 1 MiB) caps ``file.read``
when the task does not ask for less.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path
from typing import Any

from taskwarden.actions.registry import ActionContext, ActionFunc
from taskwarden.errors import ActionError

DEFAULT_MAX_READ = 1024 * 1024
DEFAULT_LIST_LIMIT = 1000


def _workspace(ctx: ActionContext) -> Path:
    ctx.workspace.mkdir(parents=True, exist_ok=True)
    return ctx.workspace.resolve()


def _param_str(params: dict[str, Any], key: str, action: str) -> str:
    value = params.get(key)
    if not isinstance(value, str) or not value or "\0" in value:
        raise ActionError(f"{action}: '{key}' must be a non-empty path string, got {value!r}",
                          retryable=False)
    return value


def _confine(ws: Path, raw: str, action: str, *, as_link: bool = False) -> Path:
    """The path ``raw`` names inside ``ws``, or an ActionError if it escapes.

    ``as_link`` returns the path of a final symlink itself (for delete/move)
    instead of its target; the target must still lie inside the workspace.
    """
    candidate = Path(raw)
    if not candidate.is_absolute():
        candidate = ws / candidate
    try:
        resolved = candidate.resolve()
    except (RuntimeError, OSError) as exc:  # a symlink loop, a path too long
        raise ActionError(f"{action}: path '{raw}' cannot be resolved: {exc}",
                          retryable=False) from exc
    if not resolved.is_relative_to(ws):
        raise ActionError(f"{action}: path '{raw}' is outside the workspace {ws}; refused",
                          retryable=False)
    if as_link and candidate.name not in ("", ".", ".."):
        parent = candidate.parent.resolve()
        if parent.is_relative_to(ws):
            return parent / candidate.name
    return resolved


def _not_root(ws: Path, path: Path, raw: str, action: str) -> None:
    if path == ws:
        raise ActionError(f"{action}: path '{raw}' is the workspace itself; refused",
                          retryable=False)


def _rel(ws: Path, path: Path) -> str:
    return path.relative_to(ws).as_posix()


def file_write(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Write text ``content`` to ``path`` (``append`` to add), creating parent folders."""
    ws = _workspace(ctx)
    raw = _param_str(params, "path", "file.write")
    content = params.get("content", "")
    if not isinstance(content, str):
        raise ActionError(f"file.write: 'content' must be a string, got {type(content).__name__}",
                          retryable=False)
    path = _confine(ws, raw, "file.write")
    _not_root(ws, path, raw, "file.write")
    if path.is_dir():
        raise ActionError(f"file.write: '{raw}' is a directory", retryable=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8")
    with path.open("ab" if params.get("append") else "wb") as fh:
        fh.write(data)
    return {"path": _rel(ws, path), "bytes": len(data), "size": path.stat().st_size}


def _decode(data: bytes, truncated: bool) -> tuple[str, str]:
    """Text if the bytes are UTF-8 (allowing a character cut by truncation), else base64."""
    for cut in range(4 if truncated else 1):
        try:
            return data[: len(data) - cut].decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            continue
    return base64.b64encode(data).decode("ascii"), "base64"


def file_read(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Read up to ``max_bytes`` of ``path``; binary content comes back base64-encoded."""
    ws = _workspace(ctx)
    raw = _param_str(params, "path", "file.read")
    cap = int(ctx.settings.get("file_max_read", DEFAULT_MAX_READ))
    max_bytes = params.get("max_bytes", cap)
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0:
        raise ActionError(f"file.read: 'max_bytes' must be an integer >= 0, got {max_bytes!r}",
                          retryable=False)
    max_bytes = min(max_bytes, cap)
    path = _confine(ws, raw, "file.read")
    if not path.is_file():
        raise ActionError(f"file.read: '{raw}' does not exist or is not a file", retryable=False)
    size = path.stat().st_size
    with path.open("rb") as fh:
        data = fh.read(max_bytes)
    truncated = size > len(data)
    content, encoding = _decode(data, truncated)
    return {"path": _rel(ws, path), "content": content, "encoding": encoding,
            "size": size, "truncated": truncated}


def _src_dst(params: dict[str, Any], ctx: ActionContext, action: str,
             *, as_link: bool) -> tuple[Path, Path, Path]:
    ws = _workspace(ctx)
    raw_src = _param_str(params, "src", action)
    raw_dst = _param_str(params, "dst", action)
    src = _confine(ws, raw_src, action, as_link=as_link)
    dst = _confine(ws, raw_dst, action)
    _not_root(ws, src, raw_src, action)
    if not src.exists() and not src.is_symlink():
        raise ActionError(f"{action}: source '{raw_src}' does not exist", retryable=False)
    if dst.is_dir():
        # The name inside the folder may itself be a symlink: check it again.
        dst = _confine(ws, str(dst / src.name), action)
    if dst.exists() and not params.get("overwrite", True):
        raise ActionError(f"{action}: destination '{raw_dst}' exists and overwrite is false",
                          retryable=False)
    if src.is_dir() and dst.is_relative_to(src):
        raise ActionError(f"{action}: cannot put '{raw_src}' inside itself", retryable=False)
    dst.parent.mkdir(parents=True, exist_ok=True)
    return ws, src, dst


def file_copy(params: dict[str, Any], ctx: ActionContext) -> dict[str, str]:
    """Copy file or folder ``src`` to ``dst`` (into it, if ``dst`` is a folder).

    Symlinks inside a copied folder are copied as links, never read through,
    so copying cannot pull content from outside the workspace.
    """
    ws, src, dst = _src_dst(params, ctx, "file.copy", as_link=False)
    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dst)
    return {"src": _rel(ws, src), "dst": _rel(ws, dst)}


def file_move(params: dict[str, Any], ctx: ActionContext) -> dict[str, str]:
    """Move (rename) ``src`` to ``dst`` inside the workspace."""
    ws, src, dst = _src_dst(params, ctx, "file.move", as_link=True)
    shutil.move(src, dst)
    return {"src": _rel(ws, src), "dst": _rel(ws, dst)}


def file_delete(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Delete ``path``; a folder needs ``recursive: true``.

    A missing path is success (``deleted: false``) so a retried task is
    idempotent, unless ``must_exist`` asks otherwise.
    """
    ws = _workspace(ctx)
    raw = _param_str(params, "path", "file.delete")
    path = _confine(ws, raw, "file.delete", as_link=True)
    _not_root(ws, path, raw, "file.delete")
    if not path.exists() and not path.is_symlink():
        if params.get("must_exist"):
            raise ActionError(f"file.delete: '{raw}' does not exist", retryable=False)
        return {"path": _rel(ws, path), "deleted": False}
    if path.is_dir() and not path.is_symlink():
        if not params.get("recursive"):
            raise ActionError(f"file.delete: '{raw}' is a folder; pass recursive: true",
                              retryable=False)
        shutil.rmtree(path)
    else:
        path.unlink()
    return {"path": _rel(ws, path), "deleted": True}


def file_list(params: dict[str, Any], ctx: ActionContext) -> dict[str, Any]:
    """Workspace paths matching glob ``pattern`` (default ``*``; ``**`` recurses), sorted.

    Matches whose real location is outside the workspace (through a symlink)
    are left out rather than listed.
    """
    ws = _workspace(ctx)
    pattern = params.get("pattern", "*")
    if not isinstance(pattern, str) or not pattern:
        raise ActionError(f"file.list: 'pattern' must be a non-empty string, got {pattern!r}",
                          retryable=False)
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        raise ActionError(f"file.list: pattern '{pattern}' is outside the workspace {ws}; refused",
                          retryable=False)
    limit = params.get("limit", DEFAULT_LIST_LIMIT)
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ActionError(f"file.list: 'limit' must be an integer >= 1, got {limit!r}",
                          retryable=False)
    found = sorted(_rel(ws, p) for p in ws.glob(pattern) if p.resolve().is_relative_to(ws))
    return {"paths": found[:limit], "count": len(found), "truncated": len(found) > limit}


ACTIONS: dict[str, ActionFunc] = {
    "file.write": file_write,
    "file.read": file_read,
    "file.copy": file_copy,
    "file.move": file_move,
    "file.delete": file_delete,
    "file.list": file_list,
}
