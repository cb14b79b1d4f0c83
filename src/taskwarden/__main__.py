"""``python -m taskwarden``: the same CLI, for when the console script is not on PATH."""

from taskwarden.cli import app

app()
