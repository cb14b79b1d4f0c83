"""The restart policy of DESIGN.md "Healing", with plain numbers: no sleeping."""

from __future__ import annotations

from taskwarden.supervision.backoff import Backoff, RestartWindow


def test_first_death_restarts_at_once_then_doubles_to_the_cap() -> None:
    backoff = Backoff(start_s=5, max_s=60, stable_s=60)
    assert [backoff.next_delay() for _ in range(7)] == [0, 5, 10, 20, 40, 60, 60]


def test_stable_running_forgets_the_streak() -> None:
    backoff = Backoff(start_s=5, max_s=60, stable_s=60)
    backoff.next_delay()
    backoff.next_delay()
    assert not backoff.ran_stably(59.9)
    assert backoff.ran_stably(60)
    assert backoff.streak == 0 and backoff.next_delay() == 0
    backoff.ran_stably(60)
    assert not backoff.ran_stably(1000)  # nothing to forget: no death since


def test_window_counts_only_recent_restarts_and_keeps_exit_codes() -> None:
    window = RestartWindow(limit=5, window_s=600)
    for i in range(6):
        window.record(float(i), 1 if i % 2 else -9)
    assert window.exceeded(10.0)
    assert list(window.exit_codes) == [-9, 1, -9, 1, -9, 1]
    assert window.count(600.5) == 5 and not window.exceeded(600.5)
