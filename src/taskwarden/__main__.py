"""``python -m taskwarden``: the same CLI, for when the console script is not on PATH.

The guard matters: multiprocessing's spawn start method re-imports the main
module in every child (as ``__mp_main__``); without it each action child
would run the CLI again.
"""

from taskwarden.cli import app

if __name__ == "__main__":
    app()
