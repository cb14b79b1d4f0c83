"""The Jinja2 environment every report renders with, and the filters that format figures.

HTML templates are autoescaped. Markdown has no autoescape, so every value
that comes from a task (action names, error messages) goes through the ``md``
filter: a Markdown viewer that renders inline HTML must show
``<script>alert(1)</script>`` as text, and a ``|`` in a message must not split
a table cell.
"""

from __future__ import annotations

import html
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def md(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    text = html.escape(str(value), quote=False)
    return " ".join(text.replace("|", "\\|").replace("`", "\\`").split())


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f} %"


def secs(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def when(ts: float | None) -> str:
    return "—" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def duration(value: float | None) -> str:
    if value is None:
        return "n/a"
    value = round(value)
    hours, rest = divmod(value, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"


def num(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("taskwarden.reports", "templates"),
                      autoescape=select_autoescape(["html", "html.j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=md, pct=pct, secs=secs, when=when, duration=duration, num=num)
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
