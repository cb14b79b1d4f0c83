"""file.* actions on real files: what works inside the workspace, and every way out refused."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from taskwarden.actions import ActionContext
from taskwarden.actions.files import ACTIONS
from taskwarden.errors import ActionError


@pytest.fixture
def ctx(tmp_path: Path) -> ActionContext:
    return ActionContext(task_id=1, worker_id="w1", attempt=1, workspace=tmp_path / "ws",
                         artifacts_dir=tmp_path / "artifacts", settings={})


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file next to the workspace that no action may touch."""
    path = tmp_path / "outside.txt"
    path.write_text("precious")
    return path


def run(name: str, ctx: ActionContext, **params: Any) -> Any:
    return ACTIONS[name](params, ctx)


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry under root (not following links) and its content, to prove nothing changed."""
    seen: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            if p.is_symlink():
                seen[str(p)] = "-> " + os.readlink(p)
            elif p.is_file():
                seen[str(p)] = p.read_bytes()
            else:
                seen[str(p)] = "dir"
    return seen


def test_write_read_append_and_workspace_is_created(ctx: ActionContext) -> None:
    assert not ctx.workspace.exists()
    out = run("file.write", ctx, path="a/b.txt", content="hello ")
    assert out == {"path": "a/b.txt", "bytes": 6, "size": 6}
    run("file.write", ctx, path="a/b.txt", content="world", append=True)
    read = run("file.read", ctx, path="a/b.txt")
    assert read["content"] == "hello world"
    assert (read["encoding"], read["truncated"], read["size"]) == ("utf-8", False, 11)


def test_read_caps_bytes_and_encodes_binary(ctx: ActionContext) -> None:
    run("file.write", ctx, path="t.txt", content="é" * 10)
    read = run("file.read", ctx, path="t.txt", max_bytes=5)
    assert read["truncated"] and read["content"] == "éé"  # the cut character is dropped
    (ctx.workspace / "bin").write_bytes(b"\xff\x00\xfe")
    assert run("file.read", ctx, path="bin") | {"content": "?"} == {
        "path": "bin", "content": "?", "encoding": "base64", "size": 3, "truncated": False}


def test_copy_move_delete_list(ctx: ActionContext) -> None:
    run("file.write", ctx, path="src/one.txt", content="1")
    run("file.write", ctx, path="src/two.csv", content="2")
    assert run("file.copy", ctx, src="src/one.txt", dst="copy.txt")["dst"] == "copy.txt"
    run("file.copy", ctx, src="src", dst="tree")
    assert (ctx.workspace / "tree/two.csv").read_text() == "2"
    run("file.move", ctx, src="copy.txt", dst="src")  # into the folder
    assert (ctx.workspace / "src/copy.txt").exists() and not (ctx.workspace / "copy.txt").exists()
    listed = run("file.list", ctx, pattern="**/*.txt")
    assert listed["paths"] == ["src/copy.txt", "src/one.txt", "tree/one.txt"]
    assert run("file.delete", ctx, path="src/one.txt")["deleted"] is True
    assert run("file.delete", ctx, path="src/one.txt")["deleted"] is False
    with pytest.raises(ActionError, match="pass recursive"):
        run("file.delete", ctx, path="tree")
    run("file.delete", ctx, path="tree", recursive=True)
    assert run("file.list", ctx)["paths"] == ["src"]


def test_copy_refuses_to_overwrite_when_asked(ctx: ActionContext) -> None:
    run("file.write", ctx, path="a", content="a")
    run("file.write", ctx, path="b", content="b")
    with pytest.raises(ActionError, match="exists and overwrite is false"):
        run("file.copy", ctx, src="a", dst="b", overwrite=False)
    assert (ctx.workspace / "b").read_text() == "b"


ESCAPES = [
    ("file.write", {"path": "../outside.txt", "content": "x"}, "../outside.txt"),
    ("file.write", {"path": "sub/../../outside.txt", "content": "x"}, "sub/../../outside.txt"),
    ("file.read", {"path": "/etc/passwd"}, "/etc/passwd"),
    ("file.read", {"path": "../outside.txt"}, "../outside.txt"),
    ("file.delete", {"path": "../outside.txt"}, "../outside.txt"),
    ("file.copy", {"src": "/etc/passwd", "dst": "p"}, "/etc/passwd"),
    ("file.copy", {"src": "in.txt", "dst": "../stolen.txt"}, "../stolen.txt"),
    ("file.move", {"src": "../outside.txt", "dst": "mine.txt"}, "../outside.txt"),
    ("file.move", {"src": "in.txt", "dst": "/tmp/evil.txt"}, "/tmp/evil.txt"),
]


@pytest.mark.parametrize(("name", "params", "named"), ESCAPES)
def test_paths_outside_are_refused_and_nothing_is_touched(
        ctx: ActionContext, outside: Path, name: str, params: dict[str, Any], named: str) -> None:
    run("file.write", ctx, path="in.txt", content="inside")
    before = snapshot(outside.parent)
    with pytest.raises(ActionError, match="outside the workspace") as err:
        ACTIONS[name](params, ctx)
    assert f"'{named}'" in str(err.value) and err.value.retryable is False
    assert snapshot(outside.parent) == before
    assert not Path("/tmp/evil.txt").exists()


def test_symlink_escaping_the_workspace_is_refused(ctx: ActionContext, outside: Path) -> None:
    ctx.workspace.mkdir()
    (ctx.workspace / "link").symlink_to(outside)
    (ctx.workspace / "dirlink").symlink_to(outside.parent)
    before = snapshot(outside.parent)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("file.read", {"path": "link"}),
        ("file.write", {"path": "link", "content": "pwned"}),
        ("file.write", {"path": "dirlink/new.txt", "content": "pwned"}),
        ("file.delete", {"path": "link"}),
        ("file.copy", {"src": "link", "dst": "copy"}),
        ("file.move", {"src": "dirlink/outside.txt", "dst": "got.txt"}),
    ]
    for name, params in attempts:
        with pytest.raises(ActionError, match="outside the workspace") as err:
            ACTIONS[name](params, ctx)
        assert err.value.retryable is False, name
    assert snapshot(outside.parent) == before
    assert outside.read_text() == "precious"
    assert run("file.list", ctx, pattern="**/*")["paths"] == []  # escaping links are not listed


def test_copy_into_folder_refuses_a_symlink_named_like_the_source(
        ctx: ActionContext, outside: Path) -> None:
    run("file.write", ctx, path="outside.txt", content="overwrite?")
    (ctx.workspace / "drop").mkdir()
    (ctx.workspace / "drop/outside.txt").symlink_to(outside)
    with pytest.raises(ActionError, match="outside the workspace"):
        run("file.copy", ctx, src="outside.txt", dst="drop")
    assert outside.read_text() == "precious"


def test_symlinks_inside_the_workspace_work_and_delete_removes_the_link(
        ctx: ActionContext) -> None:
    run("file.write", ctx, path="real.txt", content="data")
    (ctx.workspace / "alias").symlink_to("real.txt")
    assert run("file.read", ctx, path="alias")["content"] == "data"
    run("file.delete", ctx, path="alias")
    assert (ctx.workspace / "real.txt").read_text() == "data"


@pytest.mark.parametrize("params", [{}, {"path": ""}, {"path": 3}, {"path": "."}])
def test_bad_path_params_are_not_retryable(ctx: ActionContext, params: dict[str, Any]) -> None:
    with pytest.raises(ActionError) as err:
        run("file.delete", ctx, **params)
    assert err.value.retryable is False
    assert ctx.workspace.exists()


def test_list_refuses_patterns_that_climb_out(ctx: ActionContext) -> None:
    for pattern in ("../*", "/etc/*"):
        with pytest.raises(ActionError, match="outside the workspace"):
            run("file.list", ctx, pattern=pattern)


def test_symlink_loop_is_refused_not_crashed(ctx: ActionContext) -> None:
    ctx.workspace.mkdir()
    (ctx.workspace / "a").symlink_to("b")
    (ctx.workspace / "b").symlink_to("a")
    with pytest.raises(ActionError, match="'a'") as err:
        run("file.read", ctx, path="a")
    assert err.value.retryable is False
