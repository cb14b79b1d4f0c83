"""Configuration: ``taskwarden.toml``, then ``TASKWARDEN_*`` variables, then flags.

Every setting lives in a small frozen dataclass per section. Values are
checked on load, and a bad one raises :class:`ConfigError` naming the key, the
value and what is allowed, so an operator never has to guess.

Environment variables are named ``TASKWARDEN_<SECTION>_<KEY>`` (for example
``TASKWARDEN_SERVER_PORT=9000``); the top-level keys are ``TASKWARDEN_DATA_DIR``
and ``TASKWARDEN_TIME_SCALE``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from taskwarden.errors import ConfigError


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8091
    max_body_bytes: int = 1024 * 1024
    max_queue: int = 0  # 0: no limit; past it enqueue answers 429
    token: str = ""  # when set, worker-side endpoints need "Authorization: Bearer <token>"
    lease_sweep_s: float = 1.0
    url: str = ""  # a remote server (worker hosts); empty: this host's http://host:port

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ConfigError("server.url", self.url, "an http:// or https:// URL, or empty")


@dataclass(frozen=True)
class WorkerConfig:
    prefetch: int = 4
    heartbeat_s: float = 2.0
    lease_s: float = 30.0
    poll_wait_s: float = 2.0  # a long-poll; SIGTERM is acted on when it returns
    retry_base_s: float = 2.0
    retry_max_s: float = 300.0


@dataclass(frozen=True)
class WardenConfig:
    workers: int = 1
    tick_s: float = 0.2
    backoff_start_s: float = 5.0
    backoff_max_s: float = 60.0
    stable_s: float = 60.0
    restart_limit: int = 5
    restart_window_s: float = 600.0
    stale_heartbeat_s: float = 15.0
    stop_grace_s: float = 10.0
    monitor: bool = True
    #: "all": server, workers and monitor on this host; "worker": only workers, for a
    #: worker host that serves a remote server (``server.url``).
    role: str = "all"


@dataclass(frozen=True)
class ActionsConfig:
    workspace: str = "workspace"  # relative to the data directory unless absolute
    shell_allow: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    http_max_body: int = 64 * 1024
    artifacts_keep_s: float = 7 * 24 * 3600.0  # artifacts older than this are pruned


@dataclass(frozen=True)
class MonitorConfig:
    """The monitor's intervals and the default alert thresholds of DESIGN.md.

    Intervals and windows are configured seconds (scaled by the time scale);
    ``webhook_timeout_s`` is the one exception: a network timeout is real time.
    """

    sample_s: float = 60.0
    canary_s: float = 1800.0
    canary_timeout_s: float = 60.0
    retention_s: float = 7 * 24 * 3600.0
    success_rate_min: float = 0.70
    success_short_s: float = 300.0  # the multiwindow rule's short window
    success_long_s: float = 3600.0  # ... and its long one
    min_judged: int = 10  # a window with fewer judged tasks is not judged at all
    queue_warning: int = 6
    queue_critical: int = 21
    p95_latency_max_s: float = 5.0
    pending_samples: int = 1  # a condition must still hold this many samples later to fire
    hold_s: float = 300.0  # keep firing this long after the condition clears
    webhooks: tuple[str, ...] = ()
    slack_webhooks: tuple[str, ...] = ()
    webhook_timeout_s: float = 5.0
    webhook_retries: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= self.success_rate_min <= 1.0:
            raise ConfigError("monitor.success_rate_min", self.success_rate_min, "a ratio from 0 to 1")
        if self.queue_critical <= self.queue_warning:
            raise ConfigError("monitor.queue_critical", self.queue_critical,
                              f"a size above monitor.queue_warning ({self.queue_warning})")
        if self.success_short_s > self.success_long_s:
            raise ConfigError("monitor.success_short_s", self.success_short_s,
                              f"a window no longer than monitor.success_long_s ({self.success_long_s:g})")
        for key in ("webhooks", "slack_webhooks"):
            bad = [u for u in getattr(self, key) if not u.startswith(("http://", "https://"))]
            if bad:
                raise ConfigError(f"monitor.{key}", bad[0], "http:// or https:// URLs")


@dataclass(frozen=True)
class ReportsConfig:
    """How often the reports are regenerated, how many are kept, and the scorecard's targets.

    ``report_s`` is configured seconds (scaled by the time scale). The targets are
    the user's own success criteria; the scorecard compares each measured value
    against them, so changing a target here changes what "pass" means everywhere.
    """

    report_s: float = 3600.0
    keep: int = 24
    success_rate: float = 0.85  # critical: success rate over the period at least this
    workers: int = 1  # critical: exactly this many workers held
    recoveries: int = 3  # critical: at least this many automatic recoveries
    queue_mean: float = 10.0  # important: mean queue size below this
    p95_s: float = 5.0  # important: mean p95 latency below this
    wardens: int = 1  # important: exactly this many wardens held
    canary: float = 1.0  # nice: canary pass ratio at least this
    alert_accuracy: float = 0.95  # nice: drill alert precision and recall at least this

    def __post_init__(self) -> None:
        for key in ("success_rate", "canary", "alert_accuracy"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"reports.{key}", getattr(self, key), "a ratio from 0 to 1")
        for key in ("keep", "workers", "wardens"):
            if getattr(self, key) < 1:
                raise ConfigError(f"reports.{key}", getattr(self, key), "a whole number >= 1")


@dataclass(frozen=True)
class Config:
    data_dir: Path = Path("var")
    time_scale: float = 1.0
    store: str = "sqlite"  # "sqlite" or a postgresql:// URL
    sqlite_synchronous: str = "NORMAL"
    server: ServerConfig = field(default_factory=ServerConfig)
    worker: WorkerConfig = field(default_factory=WorkerConfig)
    warden: WardenConfig = field(default_factory=WardenConfig)
    actions: ActionsConfig = field(default_factory=ActionsConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)

    @property
    def server_url(self) -> str:
        return self.server.url.rstrip("/") or f"http://{self.server.host}:{self.server.port}"

    @property
    def workspace(self) -> Path:
        path = Path(self.actions.workspace)
        return path if path.is_absolute() else self.data_dir / path

    def seconds(self, configured: float) -> float:
        """A configured duration in real seconds under the time scale."""
        return configured / self.time_scale

    def liveness_seconds(self, configured: float) -> float:
        """Like :meth:`seconds`, but never under the floor a real process needs.

        A process does not start, or answer a heartbeat, faster because the
        clock is scaled: heartbeat staleness, leases and stop grace stay at
        least ``LIVENESS_FLOOR_S`` so ``TASKWARDEN_TIME_SCALE=60`` rehearses
        a day without killing healthy processes for being slow to boot.
        """
        return max(self.seconds(configured), min(configured, LIVENESS_FLOOR_S))

    def heartbeat_seconds(self) -> float:
        """How often workers, wardens and monitors say they are alive (floored like liveness)."""
        return max(self.seconds(self.worker.heartbeat_s), min(self.worker.heartbeat_s, HEARTBEAT_FLOOR_S))


#: Liveness limits never drop below these under a time scale (see ``Config.liveness_seconds``).
LIVENESS_FLOOR_S = 2.0
HEARTBEAT_FLOOR_S = 0.25

_SECTIONS = {"server": ServerConfig, "worker": WorkerConfig, "warden": WardenConfig,
             "actions": ActionsConfig, "monitor": MonitorConfig, "reports": ReportsConfig}
_CHOICES = {"sqlite_synchronous": ("NORMAL", "FULL"), "role": ("all", "worker")}


def load(path: Path | None = None, overrides: dict[str, Any] | None = None,
         environ: dict[str, str] | None = None) -> Config:
    """Read the file, then the environment, then explicit overrides (flags).

    ``overrides`` uses dotted keys: ``{"server.port": 9000, "data_dir": "x"}``.
    The file defaults to ``$TASKWARDEN_CONFIG`` or ``./taskwarden.toml`` when it exists.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = _read_file(path or _default_path(env))
    flat = _flatten(raw)
    flat.update(_from_env(env))
    flat.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return _build(flat)


def _default_path(env: Any) -> Path | None:
    if env.get("TASKWARDEN_CONFIG"):
        return Path(env["TASKWARDEN_CONFIG"])
    local = Path("taskwarden.toml")
    return local if local.exists() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError("config", str(path), "an existing TOML file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", str(path), f"valid TOML ({exc})") from exc


def _flatten(raw: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(key, value, "a [section] table")
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            flat[key] = value
    return flat


def _from_env(env: Any) -> dict[str, Any]:
    known = {k.replace(".", "_").upper(): k for k in _all_keys()}
    found = {}
    for name, value in env.items():
        if name.startswith("TASKWARDEN_") and name[11:] in known:
            found[known[name[11:]]] = value
    return found


def _all_keys() -> list[str]:
    keys = [f.name for f in dataclasses.fields(Config) if f.name not in _SECTIONS]
    for section, cls in _SECTIONS.items():
        keys += [f"{section}.{f.name}" for f in dataclasses.fields(cls)]
    return keys


def _build(flat: dict[str, Any]) -> Config:
    unknown = sorted(set(flat) - set(_all_keys()))
    if unknown:
        raise ConfigError(unknown[0], flat[unknown[0]], f"one of the known keys: {', '.join(_all_keys())}")
    sections = {}
    for section, cls in _SECTIONS.items():
        values = {k.split(".", 1)[1]: v for k, v in flat.items() if k.startswith(section + ".")}
        sections[section] = _make(cls, values, prefix=section + ".")
    top = {k: v for k, v in flat.items() if "." not in k}
    config = _make(Config, {**top, **sections}, prefix="")
    if config.warden.role == "worker" and not config.server.url:
        raise ConfigError("server.url", "", "the URL of the queue server when warden.role is 'worker'")
    return config


def _make(cls: type, values: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    converted = {}
    for name, value in values.items():
        if dataclasses.is_dataclass(value):
            converted[name] = value
            continue
        converted[name] = _convert(prefix + name, value, hints[name])
    return cls(**converted)


def _convert(key: str, value: Any, hint: Any) -> Any:
    """Coerce strings from the environment and check ranges."""
    try:
        result = _coerce(value, hint)
    except (TypeError, ValueError) as exc:
        raise ConfigError(key, value, f"a value of type {_type_name(hint)}") from exc
    _check_range(key, result)
    return result


def _coerce(value: Any, hint: Any) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(value)
    if hint is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        return int(value)
    if hint is float:
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if hint is Path:
        return Path(value)
    if hint is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if getattr(hint, "__origin__", None) is tuple:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part]
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise TypeError(value)
        return tuple(value)
    raise TypeError(f"unsupported type {hint}")


def _type_name(hint: Any) -> str:
    if getattr(hint, "__origin__", None) is tuple:
        return "list of strings"
    return getattr(hint, "__name__", str(hint))


def _check_range(key: str, value: Any) -> None:
    name = key.rsplit(".", 1)[-1]
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(key, value, f"one of {', '.join(_CHOICES[name])}")
    if name == "port" and not 0 < value < 65536:
        raise ConfigError(key, value, "a TCP port from 1 to 65535")
    if name == "store" and not (value == "sqlite" or value.startswith(("postgresql://", "postgres://"))):
        raise ConfigError(key, value, "'sqlite' or a postgresql:// URL")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if (name.endswith("_s") or name == "time_scale") and value <= 0:
            raise ConfigError(key, value, "a number of seconds greater than 0")
        if value < 0:
            raise ConfigError(key, value, "a number >= 0")
    if name == "prefetch" and value < 1:
        raise ConfigError(key, value, "a whole number >= 1")
