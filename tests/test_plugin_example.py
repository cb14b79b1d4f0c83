"""The example plugin in examples/hello_plugin, installed by pip, is found by the Registry.

pip builds and installs the package for real (wheel, entry-point metadata), but
into a temporary target folder put on ``sys.path`` rather than into the shared
venv: the test then leaves the environment as it found it and is safe under
pytest-xdist. pip builds from a copy, because setuptools writes ``build/``
and ``*.egg-info`` next to the sources. The build backend comes from pip's configured index, as for
``make``'s own install.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskwarden.actions import ActionContext, Registry
from taskwarden.errors import ActionError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "hello_plugin"


@pytest.fixture(scope="session")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    source = tmp_path_factory.mktemp("plugin-src") / "hello_plugin"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = tmp_path_factory.mktemp("plugin-site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps",
         "--disable-pip-version-check", "--target", str(target), str(source)],
        check=True, capture_output=True, timeout=120)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("hello_plugin", None)


def test_registry_finds_the_entry_point(installed_plugin: Path, tmp_path: Path) -> None:
    registry = Registry()
    assert "hello" in registry.names()
    hello = registry.get("hello")
    ctx = ActionContext(task_id=5, worker_id="w1", attempt=2, workspace=tmp_path,
                        artifacts_dir=tmp_path)
    assert hello({"name": "Ada"}, ctx) == {"greeting": "hello, Ada", "task": 5, "attempt": 2}
    with pytest.raises(ActionError) as err:
        hello({"name": ""}, ctx)
    assert err.value.retryable is False
