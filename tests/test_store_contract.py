"""The Store contract, proved against every backend.

Each test states one promise from a docstring in ``taskwarden.store.base`` and
runs on SQLite and PostgreSQL alike through the parametrised ``store``
fixture. Time is always passed in (``T0`` plus offsets); nothing sleeps.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_backends import (
    BACKENDS,
    PgDatabase,
    lease_in_process,
    lease_until_empty,
    open_backend,
    pg_available,
    wipe,
)

from taskwarden import states
from taskwarden.errors import Conflict, NotFound, StoreError
from taskwarden.store.base import Alert, Outcome, QueueFull, Task, TaskSpec, WorkerInfo
from taskwarden.store.postgres import PostgresStore
from taskwarden.store.schema import MIGRATIONS as PG_MIGRATIONS
from taskwarden.store.sql import SqlStore
from taskwarden.store.sqlite import SqliteStore

T0 = 1_700_000_000.0
StoreFactory = Callable[[], SqlStore]


# -- fixtures ----------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throw-away database for the whole session, dropped at the end."""
    reason = pg_available()
    if reason:  # the suite needs PostgreSQL (.ci/run starts it): its absence fails, never skips
        pytest.fail(f"{reason}; start PostgreSQL or set TASKWARDEN_TEST_PG_URL")
    db = PgDatabase().create()
    try:
        yield db.url
    finally:
        db.drop()


@pytest.fixture(params=[pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else [])
                        for b in BACKENDS])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens store instances over one clean data set; every instance is closed afterwards."""
    kind: str = request.param
    url = request.getfixturevalue("pg_url") if kind == "postgres" else ""
    opened: list[SqlStore] = []

    def factory() -> SqlStore:
        store = open_backend(kind, tmp_path / "taskwarden.db", url)
        opened.append(store)
        return store

    wipe(factory())
    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> SqlStore:
    return open_store()


# -- helpers -----------------------------------------------------------------
def add(store: SqlStore, n: int = 1, now: float = T0, **spec: Any) -> list[Task]:
    """Enqueue ``n`` tasks built from the same spec fields; the tasks."""
    spec.setdefault("action", "noop")
    return [task for task, _ in store.enqueue([TaskSpec(**spec) for _ in range(n)], now)]


def run(store: SqlStore, worker: str = "w1", now: float = T0, lease_s: float = 30.0,
        limit: int = 1) -> list[Task]:
    return store.lease(worker, limit, lease_s, now)


def fail(task_id: int, retryable: bool = True) -> Outcome:
    return Outcome(task_id, ok=False, error_class="Boom", error_message="it broke",
                   retryable=retryable)


def complete(store: SqlStore, enqueued: float, started: float, finished: float,
             ok: bool = True, canary: bool = False) -> Task:
    """A task that waited ``started - enqueued`` and ran ``finished - started`` seconds."""
    (task,) = add(store, now=enqueued, canary=canary)
    assert [t.id for t in store.lease("lat", 1, 999.0, started)] == [task.id]
    outcome = Outcome(task.id, ok=True) if ok else fail(task.id, retryable=False)
    (done,) = store.finish("lat", [outcome], finished)
    return done


# -- enqueue -----------------------------------------------------------------
def test_enqueue_returns_each_task_created_in_order(store: SqlStore) -> None:
    specs = [TaskSpec("noop", {"n": 1}, priority=5, timeout_s=2.5, max_attempts=4),
             TaskSpec("smoke", canary=True)]
    out = store.enqueue(specs, T0)
    assert [created for _, created in out] == [True, True]
    first, second = (task for task, _ in out)
    assert second.id > first.id
    assert (first.action, first.params, first.priority, first.timeout_s, first.max_attempts) == \
        ("noop", {"n": 1}, 5, 2.5, 4)
    assert (first.state, first.attempts, first.not_before, first.enqueued_at) == \
        (states.QUEUED, 0, T0, T0)
    assert first.canary is False and second.canary is True
    assert first.lease_owner is None and first.started_at is None and first.finished_at is None
    assert store.get(first.id) == first


def test_enqueue_batch_is_atomic(store: SqlStore) -> None:
    unencodable = TaskSpec("noop", {"x": object()})
    with pytest.raises(TypeError):
        store.enqueue([TaskSpec("noop"), TaskSpec("noop"), unencodable], T0)
    assert store.list_tasks() == []


def test_idempotency_key_returns_the_existing_task(store: SqlStore) -> None:
    ((original, created),) = store.enqueue([TaskSpec("noop", idempotency_key="k1")], T0)
    assert created
    ((again, created),) = store.enqueue([TaskSpec("other", idempotency_key="k1")], T0 + 5)
    assert not created and again == original
    assert len(store.list_tasks()) == 1


def test_idempotency_key_repeated_inside_one_batch(store: SqlStore) -> None:
    out = store.enqueue([TaskSpec("noop", idempotency_key="k"), TaskSpec("noop"),
                         TaskSpec("noop", idempotency_key="k")], T0)
    assert [created for _, created in out] == [True, True, False]
    assert out[0][0].id == out[2][0].id
    assert len(store.list_tasks()) == 2


def test_queue_full_inserts_nothing(store: SqlStore) -> None:
    add(store, 2)
    with pytest.raises(QueueFull):
        store.enqueue([TaskSpec("noop"), TaskSpec("noop")], T0, max_queue=3)
    assert len(store.list_tasks()) == 2
    store.enqueue([TaskSpec("noop")], T0, max_queue=3)  # exactly at the limit is allowed
    assert store.state_counts()[states.QUEUED] == 3


def test_queue_limit_counts_only_queued_tasks(store: SqlStore) -> None:
    add(store, 3)
    run(store, limit=2)
    store.enqueue([TaskSpec("noop"), TaskSpec("noop")], T0, max_queue=3)
    assert store.state_counts()[states.QUEUED] == 3


# -- get, list, cancel -------------------------------------------------------
def test_get_unknown_task_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.get(12345)
    assert issubclass(NotFound, StoreError)


def test_list_tasks_newest_first_with_filters(store: SqlStore) -> None:
    a, b = add(store, 2, action="a")
    (c,) = add(store, action="b")
    run(store, limit=1)  # leases a (same priority, oldest first)
    assert [t.id for t in store.list_tasks()] == [c.id, b.id, a.id]
    assert [t.id for t in store.list_tasks(state=states.QUEUED)] == [c.id, b.id]
    assert [t.id for t in store.list_tasks(action="a")] == [b.id, a.id]
    assert [t.id for t in store.list_tasks(state=states.RUNNING, action="a")] == [a.id]
    assert store.list_tasks(state=states.RUNNING, action="b") == []
    assert [t.id for t in store.list_tasks(limit=2)] == [c.id, b.id]


def test_cancel_a_queued_task(store: SqlStore) -> None:
    (task,) = add(store)
    canceled = store.cancel(task.id, T0 + 3)
    assert (canceled.state, canceled.finished_at) == (states.CANCELED, T0 + 3)
    assert run(store, now=T0 + 4) == []


def test_cancel_a_running_or_finished_task_conflicts(store: SqlStore) -> None:
    (task,) = add(store)
    run(store)
    with pytest.raises(Conflict):
        store.cancel(task.id, T0)
    store.finish("w1", [Outcome(task.id, ok=True)], T0 + 1)
    with pytest.raises(Conflict):
        store.cancel(task.id, T0 + 2)
    assert store.get(task.id).state == states.SUCCEEDED


def test_cancel_unknown_task_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.cancel(999, T0)


# -- lease -------------------------------------------------------------------
def test_lease_takes_highest_priority_then_oldest(store: SqlStore) -> None:
    low_old = add(store, priority=0)[0]
    high_new = add(store, priority=9, now=T0 + 1)[0]
    low_new = add(store, priority=0, now=T0 + 2)[0]
    mid = add(store, priority=5, now=T0 + 3)[0]
    leased = store.lease("w1", 3, 30.0, T0 + 10)
    assert [t.id for t in leased] == [high_new.id, mid.id, low_old.id]
    assert [t.id for t in store.lease("w1", 3, 30.0, T0 + 10)] == [low_new.id]


def test_lease_marks_running_counts_attempt_and_sets_deadline(store: SqlStore) -> None:
    (task,) = add(store)
    (leased,) = store.lease("w1", 1, 30.0, T0 + 2)
    assert (leased.id, leased.state, leased.attempts) == (task.id, states.RUNNING, 1)
    assert (leased.lease_owner, leased.lease_deadline, leased.started_at) == ("w1", T0 + 32, T0 + 2)
    assert store.get(task.id) == leased


def test_lease_respects_not_before_and_limit(store: SqlStore) -> None:
    (task,) = add(store)
    run(store)
    store.finish("w1", [fail(task.id)], T0 + 1, retry_delay=lambda attempts: 10.0 * attempts)
    add(store, 3, now=T0 + 2)
    assert len(store.lease("w2", 2, 30.0, T0 + 5)) == 2
    assert task.id not in [t.id for t in store.lease("w2", 5, 30.0, T0 + 5)]
    (again,) = store.lease("w2", 5, 30.0, T0 + 11)
    assert (again.id, again.attempts) == (task.id, 2)


def test_lease_on_empty_queue_returns_nothing(store: SqlStore) -> None:
    assert store.lease("w1", 10, 30.0, T0) == []


def test_extend_leases_moves_only_this_workers_running_tasks(store: SqlStore) -> None:
    a, b, c = add(store, 3)
    run(store, "w1", limit=2)
    run(store, "w2", limit=1)
    store.finish("w1", [Outcome(b.id, ok=True)], T0 + 1)
    assert store.extend_leases("w1", T0 + 100) == 1
    assert store.get(a.id).lease_deadline == T0 + 100
    assert store.get(c.id).lease_deadline == T0 + 30
    assert store.extend_leases("nobody", T0 + 100) == 0


# -- finish ------------------------------------------------------------------
def test_finish_success_records_result(store: SqlStore) -> None:
    (task,) = add(store)
    run(store)
    (done,) = store.finish("w1", [Outcome(task.id, ok=True, result={"rows": [1, 2]})], T0 + 4)
    assert (done.state, done.result, done.finished_at) == (states.SUCCEEDED, {"rows": [1, 2]}, T0 + 4)
    assert (done.error_class, done.error_message, done.lease_deadline) == (None, None, None)
    assert store.get(task.id) == done


def test_retryable_failure_goes_back_to_queue_after_delay(store: SqlStore) -> None:
    (task,) = add(store, max_attempts=3)
    run(store)
    seen: list[int] = []

    def delay(attempts: int) -> float:
        seen.append(attempts)
        return 7.0

    (retry,) = store.finish("w1", [fail(task.id)], T0 + 2, retry_delay=delay)
    assert seen == [1]
    assert (retry.state, retry.not_before, retry.attempts, retry.finished_at) == \
        (states.QUEUED, T0 + 9, 1, None)
    assert (retry.error_class, retry.error_message) == ("Boom", "it broke")
    assert store.ready_count(T0 + 8) == 0 and store.ready_count(T0 + 9) == 1


def test_failure_with_attempts_exhausted_is_dead(store: SqlStore) -> None:
    (task,) = add(store, max_attempts=2)
    for now in (T0, T0 + 1):
        run(store, now=now)
        (out,) = store.finish("w1", [fail(task.id)], now + 0.5)
    assert (out.state, out.attempts, out.finished_at) == (states.DEAD, 2, T0 + 1.5)


def test_non_retryable_failure_is_failed_at_once(store: SqlStore) -> None:
    (task,) = add(store, max_attempts=5)
    run(store)
    (out,) = store.finish("w1", [fail(task.id, retryable=False)], T0 + 1)
    assert (out.state, out.attempts, out.finished_at) == (states.FAILED, 1, T0 + 1)


def test_finish_skips_tasks_the_worker_does_not_hold(store: SqlStore) -> None:
    a, b = add(store, 2)
    run(store, "w1", lease_s=5.0)
    run(store, "w2")
    assert store.finish("w1", [Outcome(b.id, ok=True)], T0 + 1) == []  # b belongs to w2
    assert store.get(b.id).state == states.RUNNING
    store.requeue_expired(T0 + 6)  # w1's lease on a runs out; w2 takes a
    assert [t.id for t in run(store, "w2", now=T0 + 7)] == [a.id]
    assert store.finish("w1", [Outcome(a.id, ok=False)], T0 + 8) == []
    (done,) = store.finish("w2", [Outcome(a.id, ok=True, result=2), Outcome(999, ok=True)], T0 + 9)
    assert (done.id, done.result) == (a.id, 2)


def test_a_result_is_never_recorded_twice(store: SqlStore) -> None:
    (task,) = add(store)
    run(store)
    assert len(store.finish("w1", [Outcome(task.id, ok=True, result=1)], T0 + 1)) == 1
    assert store.finish("w1", [Outcome(task.id, ok=True, result=2)], T0 + 2) == []
    assert (store.get(task.id).result, store.get(task.id).finished_at) == (1, T0 + 1)


# -- release, requeue --------------------------------------------------------
def test_clean_release_returns_the_attempt(store: SqlStore) -> None:
    a, b, c = add(store, 3)
    run(store, "w1", limit=3)
    released = store.release("w1", [a.id, c.id], now=T0 + 1)
    assert sorted(t.id for t in released) == [a.id, c.id]
    assert all((t.state, t.attempts) == (states.QUEUED, 0) for t in released)
    assert store.get(b.id).state == states.RUNNING


def test_release_all_of_one_worker_only(store: SqlStore) -> None:
    a, b, c = add(store, 3)
    run(store, "w1", limit=2)
    run(store, "w2", limit=1)
    assert sorted(t.id for t in store.release("w1")) == [a.id, b.id]
    assert store.get(c.id).lease_owner == "w2" and store.get(c.id).state == states.RUNNING


def test_release_counting_the_attempt_keeps_it_and_kills_when_exhausted(store: SqlStore) -> None:
    (spare,) = add(store, max_attempts=3)
    (last,) = add(store, max_attempts=1)
    run(store, "w1", limit=2)
    out = {t.id: t for t in store.release("w1", count_attempt=True, now=T0 + 5)}
    assert (out[spare.id].state, out[spare.id].attempts, out[spare.id].finished_at) == \
        (states.QUEUED, 1, None)
    assert (out[last.id].state, out[last.id].finished_at) == (states.DEAD, T0 + 5)
    assert out[last.id].error_class == "LeaseLost"


def test_requeue_expired_only_touches_passed_deadlines(store: SqlStore) -> None:
    short, long_, last = add(store, 2) + add(store, max_attempts=1)
    run(store, "w1", lease_s=10.0)
    run(store, "w1", lease_s=50.0)
    run(store, "w2", lease_s=10.0)
    assert store.requeue_expired(T0 + 10) == []  # a deadline equal to now has not passed
    out = {t.id: t for t in store.requeue_expired(T0 + 11)}
    assert sorted(out) == [short.id, last.id]
    assert (out[short.id].state, out[short.id].attempts) == (states.QUEUED, 1)
    assert out[last.id].state == states.DEAD
    assert store.get(long_.id).state == states.RUNNING


# -- workers -----------------------------------------------------------------
def worker(wid: str, role: str = "worker", **fields: Any) -> WorkerInfo:
    return WorkerInfo(id=wid, host="h1", pid=100, slot=0, role=role, **fields)


def test_heartbeat_inserts_then_refreshes(store: SqlStore) -> None:
    store.heartbeat(worker("w1"), T0)
    (first,) = store.workers()
    assert (first.started_at, first.last_heartbeat, first.status) == (T0, T0, "idle")
    store.heartbeat(worker("w1", status="busy", current_task=7), T0 + 2)
    (again,) = store.workers()
    assert (again.started_at, again.last_heartbeat) == (T0, T0 + 2)
    assert (again.status, again.current_task, again.host, again.pid) == ("busy", 7, "h1", 100)


def test_heartbeat_from_a_restarted_process_takes_its_new_pid(store: SqlStore) -> None:
    store.heartbeat(worker("h1-slot0"), T0)
    store.heartbeat(WorkerInfo(id="h1-slot0", host="h1", pid=200, slot=0), T0 + 30)
    (row,) = store.workers()
    assert (row.pid, row.started_at, row.last_heartbeat) == (200, T0 + 30, T0 + 30)


def test_workers_by_role_most_recent_first(store: SqlStore) -> None:
    store.heartbeat(worker("w1"), T0)
    store.heartbeat(worker("w2"), T0 + 2)
    store.heartbeat(worker("warden-1", role="warden"), T0 + 1)
    assert [w.id for w in store.workers()] == ["w2", "w1"]
    assert [w.id for w in store.workers("warden")] == ["warden-1"]
    assert [w.id for w in store.workers(None)] == ["w2", "warden-1", "w1"]


def test_forget_workers_drops_only_stale_rows(store: SqlStore) -> None:
    store.heartbeat(worker("old"), T0)
    store.heartbeat(worker("edge"), T0 + 5)
    store.heartbeat(worker("new"), T0 + 9)
    assert store.forget_workers(T0 + 5) == 1
    assert sorted(w.id for w in store.workers()) == ["edge", "new"]


# -- events ------------------------------------------------------------------
def test_events_after_id_kind_and_limit(store: SqlStore) -> None:
    first = store.record_event("restart", "worker-1", {"exit": -9}, T0)
    second = store.record_event("alert", "queue", {"size": 30}, T0 + 1)
    third = store.record_event("restart", "worker-2", {}, T0 + 2)
    assert (first.kind, first.subject, first.detail, first.at) == ("restart", "worker-1", {"exit": -9}, T0)
    assert first.id < second.id < third.id
    assert store.events() == [first, second, third]
    assert store.events(after_id=first.id) == [second, third]
    assert store.events(kind="restart") == [first, third]
    assert store.events(after_id=first.id, kind="restart") == [third]
    assert store.events(limit=2) == [first, second]


# -- figures -----------------------------------------------------------------
def test_results_newest_first_without_canaries(store: SqlStore) -> None:
    late = complete(store, T0, T0 + 1, T0 + 9)
    early = complete(store, T0, T0 + 1, T0 + 3, ok=False)
    complete(store, T0, T0 + 1, T0 + 10, canary=True)
    (canceled,) = add(store)
    store.cancel(canceled.id, T0 + 5)
    add(store)  # still queued: not a result
    assert [t.id for t in store.results(10)] == [late.id, canceled.id, early.id]
    assert [t.id for t in store.results(1)] == [late.id]


def test_state_counts_name_every_state(store: SqlStore) -> None:
    assert store.state_counts() == dict.fromkeys(states.ALL, 0)
    add(store, 3)
    run(store)
    (c,) = add(store)
    store.cancel(c.id, T0)
    assert store.state_counts() == {**dict.fromkeys(states.ALL, 0), states.QUEUED: 2,
                                    states.RUNNING: 1, states.CANCELED: 1}


def test_ready_count_respects_not_before(store: SqlStore) -> None:
    (task,) = add(store)
    add(store, 2)
    run(store)
    store.finish("w1", [fail(task.id)], T0, retry_delay=lambda _: 30.0)
    assert store.ready_count(T0) == 2
    assert store.ready_count(T0 + 30) == 3


def test_outcome_counts_by_window_and_canary(store: SqlStore) -> None:
    complete(store, T0, T0, T0 + 1)  # before the window
    for _ in range(3):
        complete(store, T0, T0, T0 + 20)
    complete(store, T0, T0, T0 + 21, ok=False)
    complete(store, T0, T0, T0 + 22, canary=True)
    (doomed,) = add(store, max_attempts=1)
    run(store, now=T0 + 23)
    store.finish("w1", [fail(doomed.id)], T0 + 24)
    (c,) = add(store)
    store.cancel(c.id, T0 + 25)
    assert store.outcome_counts(T0 + 10) == {states.SUCCEEDED: 3, states.FAILED: 1, states.DEAD: 1}
    assert store.outcome_counts(T0 + 10, canary=True) == {states.SUCCEEDED: 1, states.FAILED: 0,
                                                          states.DEAD: 0}
    assert store.outcome_counts(T0 + 100) == dict.fromkeys(states.JUDGED, 0)


def test_latency_percentiles_are_nearest_rank(store: SqlStore) -> None:
    # 25 tasks: task i waits i seconds and runs 100 + 2*i seconds (i = 1..25), shuffled.
    for i in (13, 2, 25, 7, 19, 1, 22, 10, 4, 16, 8, 24, 3, 11, 20, 5, 14, 23, 6, 17, 9, 21, 12,
              18, 15):
        complete(store, T0, T0 + i, T0 + i + 100 + 2 * i)
    complete(store, T0, T0, T0 + 1000, canary=True)
    complete(store, T0 - 500, T0 - 499, T0 - 400)  # finished before the window
    # Nearest rank k = ceil(q * 25): q=0.28 -> 7, 0.5 -> 13 (12.5 up), 0.56 -> 14,
    # 0.95 -> 24 (23.75 up), 1.0 -> 25; the k-th smallest wait is k, run is 100 + 2k,
    # total is 100 + 3k.
    got = store.latency_percentiles(T0, [0.28, 0.5, 0.56, 0.95, 1.0])
    assert got == {"wait": [7.0, 13.0, 14.0, 24.0, 25.0],
                   "run": [114.0, 126.0, 128.0, 148.0, 150.0],
                   "total": [121.0, 139.0, 142.0, 172.0, 175.0]}
    assert store.latency_percentiles(T0, [0.5], canary=True) == \
        {"total": [1000.0], "wait": [0.0], "run": [1000.0]}


def test_latency_percentiles_none_without_finished_tasks(store: SqlStore) -> None:
    add(store)
    assert store.latency_percentiles(T0, [0.5, 0.99]) == \
        {"total": [None, None], "wait": [None, None], "run": [None, None]}


# -- concurrency -------------------------------------------------------------
def test_concurrent_threads_each_task_leased_once(open_store: StoreFactory) -> None:
    seed = open_store()
    ids = {t.id for t in add(seed, 240, priority=0)} | {t.id for t in add(seed, 60, priority=3)}
    holders = [open_store() for _ in range(8)]
    got: dict[str, list[int]] = {}
    start = threading.Barrier(len(holders))

    def drain(name: str, store: SqlStore) -> None:
        start.wait()
        got[name] = lease_until_empty(store, name, 3, T0 + 1)

    threads = [threading.Thread(target=drain, args=(f"t{i}", s)) for i, s in enumerate(holders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert_each_once(got, ids)
    assert all(t.lease_owner in got for t in seed.list_tasks(limit=1000))


def test_concurrent_processes_each_task_leased_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    seed = SqliteStore(path)
    ids = {t.id for t in add(seed, 400)}
    seed.close()
    jobs = [(str(path), f"p{i}", 4, T0 + 1) for i in range(8)]
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.map(lease_in_process, jobs)
    assert_each_once({job[1]: res for job, res in zip(jobs, results, strict=True)}, ids)


def assert_each_once(got: dict[str, list[int]], ids: set[int]) -> None:
    counts = Counter(i for leased in got.values() for i in leased)
    assert set(counts) == ids, "a task was never leased"
    assert max(counts.values()) == 1, "a task went to two holders"


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(priorities=st.lists(st.integers(-2, 2), min_size=0, max_size=25),
       batches=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_leasing_order_property(store: SqlStore, priorities: list[int], batches: list[int]) -> None:
    """Whatever the mix, every task comes out once, in priority-then-age order."""
    wipe(store)
    specs = [TaskSpec("noop", priority=p) for p in priorities]
    enqueued = [t for t, _ in store.enqueue(specs, T0)] if specs else []
    order: list[Task] = []
    step = 0
    while leased := store.lease(f"w{step % 2}", batches[step % len(batches)], 30.0, T0):
        assert len(leased) == min(batches[step % len(batches)], len(enqueued) - len(order))
        order.extend(leased)
        step += 1
    assert [t.id for t in order] == [t.id for t in sorted(enqueued, key=lambda t: (-t.priority, t.id))]
    assert all(t.attempts == 1 and t.state == states.RUNNING for t in order)


# -- backend specifics -------------------------------------------------------
@pytest.mark.postgres
def test_postgres_migrations_race_safely() -> None:
    """Processes starting together on an empty database apply each migration once."""
    if reason := pg_available():
        pytest.fail(f"{reason}; start PostgreSQL or set TASKWARDEN_TEST_PG_URL")
    db = PgDatabase().create()
    stores: list[PostgresStore] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            stores.append(PostgresStore(db.url))
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=open_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert errors == [] and len(stores) == 4
        applied = [(v,) for v in range(1, len(PG_MIGRATIONS) + 1)]
        assert sorted(stores[0]._query("SELECT version FROM schema_version")) == applied
        assert stores[0].schema_version() == len(PG_MIGRATIONS)
    finally:
        for s in stores:
            s.close()
        db.drop()


def test_driver_errors_become_store_errors(store: SqlStore) -> None:
    with pytest.raises(StoreError) as info:
        store._query("SELECT no_such_column FROM tasks")
    assert info.value.__cause__ is not None
    store.enqueue([TaskSpec("noop")], T0)  # the connection is usable after the error


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open PostgreSQL") as info:
        PostgresStore("postgresql://nobody:secret@127.0.0.1:1/none", connect_timeout_s=0.5)
    assert "secret" not in str(info.value)


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgresStore]:
    store = PostgresStore(pg_url)
    wipe(store)
    yield store
    store.close()


def wait_until_lock_wait(conn: psycopg.Connection[Any], timeout_s: float = 10.0) -> None:
    """Return once some backend of this database waits on a row lock."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        waiting = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                               " AND datname = current_database()").fetchone()
        if waiting and waiting[0]:
            return
        time.sleep(0.01)
    raise AssertionError("the store call never waited on the row lock")


@pytest.mark.postgres
@pytest.mark.parametrize("call", ["finish", "release", "requeue_expired"])
def test_postgres_rechecks_a_row_changed_by_a_concurrent_transaction(
        pg_store: PostgresStore, pg_url: str, call: str) -> None:
    """w1's expired task is swept and re-leased to w2 while w1's call waits on the row.

    The waiting call must see the new owner and leave the task alone; acting on
    the row it read before the wait would record a stale result or steal w2's lease.
    """
    (task,) = add(pg_store)
    run(pg_store, "w1", lease_s=10.0)
    calls: dict[str, Callable[[], list[Task]]] = {
        "finish": lambda: pg_store.finish("w1", [Outcome(task.id, ok=True, result="stale")], T0 + 60),
        "release": lambda: pg_store.release("w1", count_attempt=True, now=T0 + 60),
        "requeue_expired": lambda: pg_store.requeue_expired(T0 + 60),
    }
    out: list[list[Task]] = []
    with psycopg.connect(pg_url) as other, psycopg.connect(pg_url, autocommit=True) as watcher:
        other.execute("UPDATE tasks SET lease_owner = 'w2', lease_deadline = %s,"
                      " attempts = attempts + 1 WHERE id = %s", (T0 + 150, task.id))
        caller = threading.Thread(target=lambda: out.append(calls[call]()))
        caller.start()
        wait_until_lock_wait(watcher)
        other.commit()
        caller.join(timeout=10)
    assert out == [[]]
    now = pg_store.get(task.id)
    assert (now.state, now.lease_owner, now.attempts, now.result) == (states.RUNNING, "w2", 2, None)


def test_sqlite_backup_is_a_working_copy(tmp_path: Path) -> None:
    live = SqliteStore(tmp_path / "live.db")
    add(live, 3)
    run(live)
    target = live.backup(tmp_path / "backups" / "copy.db")
    add(live)  # later writes are not in the copy
    copy = SqliteStore(target)
    try:
        assert copy.state_counts() == {**dict.fromkeys(states.ALL, 0), states.QUEUED: 2,
                                       states.RUNNING: 1}
        assert copy.list_tasks() == live.list_tasks()[1:]
    finally:
        copy.close()
        live.close()


# -- the monitor's records: summaries, samples, alerts ------------------------
def test_recent_outcomes_counts_the_last_judged_non_canary_tasks(store: SqlStore) -> None:
    for i in range(5):
        complete(store, T0, T0 + 1, T0 + 10 + i, ok=i % 2 == 0)
    complete(store, T0, T0 + 1, T0 + 50, ok=False, canary=True)
    (canceled,) = add(store)
    store.cancel(canceled.id, T0 + 60)
    assert store.recent_outcomes(3) == {"succeeded": 2, "failed": 1, "dead": 0}
    assert store.recent_outcomes(20) == {"succeeded": 3, "failed": 2, "dead": 0}


def test_action_outcomes_and_error_classes_group_by_action(store: SqlStore) -> None:
    add(store, 2, action="good")
    add(store, 3, action="bad")
    add(store, 1, action="old")
    tasks = {t.id: t for t in store.lease("w1", 10, 60.0, T0)}
    outcomes = []
    for tid, task in tasks.items():
        if task.action == "bad":
            outcomes.append(Outcome(tid, ok=False, error_class="Boom" if tid % 2 else "Bang",
                                    error_message="x", retryable=False))
        else:
            outcomes.append(Outcome(tid, ok=True))
    old = [o for o in outcomes if tasks[o.task_id].action == "old"]
    store.finish("w1", old, T0 + 1)
    store.finish("w1", [o for o in outcomes if o not in old], T0 + 100)
    assert store.action_outcomes(T0 + 50) == {"good": {"succeeded": 2, "failed": 0, "dead": 0},
                                              "bad": {"succeeded": 0, "failed": 3, "dead": 0}}
    classes = store.error_classes(T0 + 50)
    assert set(classes) == {"bad"} and sum(classes["bad"].values()) == 3
    assert set(classes["bad"]) == {"Boom", "Bang"}


def test_samples_by_kind_oldest_first_newest_kept_under_limit(store: SqlStore) -> None:
    for i in range(5):
        store.add_sample("sample", {"n": i}, T0 + i)
    store.add_sample("canary", {"ok": True}, T0 + 2.5)
    got = store.samples("sample", since=T0 + 1)
    assert [s.data["n"] for s in got] == [1, 2, 3, 4] and [s.at for s in got] == [T0 + i for i in range(1, 5)]
    assert [s.data["n"] for s in store.samples("sample", limit=2)] == [3, 4]
    latest = store.latest_sample("canary")
    assert latest is not None and latest.data == {"ok": True} and latest.kind == "canary"
    assert store.latest_sample("nothing") is None


def test_prune_samples_drops_only_older_ones_of_every_kind(store: SqlStore) -> None:
    for i in range(4):
        store.add_sample("sample", {"n": i}, T0 + i)
        store.add_sample("canary", {"n": i}, T0 + i)
    assert store.prune_samples(T0 + 2) == 4
    assert [s.at for s in store.samples("sample")] == [T0 + 2, T0 + 3]
    assert [s.at for s in store.samples("canary")] == [T0 + 2, T0 + 3]


def test_alerts_are_saved_updated_listed_and_deleted(store: SqlStore) -> None:
    pending = store.save_alert(Alert(None, "queue_warning", "warning", "pending", T0, value=7.0,
                                     threshold=6.0, summary="queue 7", detail={"ready": 7},
                                     history=[{"at": T0, "state": "pending", "value": 7.0}]))
    assert pending.id is not None and pending.detail == {"ready": 7}
    firing = store.save_alert(Alert(**{**pending.to_dict(), "state": "firing", "fired_at": T0 + 60,
                                       "history": [*pending.history, {"at": T0 + 60, "state": "firing"}]}))
    assert firing.id == pending.id and firing.fired_at == T0 + 60 and len(firing.history) == 2
    other = store.save_alert(Alert(None, "canary_failed", "critical", "pending", T0 + 10))
    done = store.save_alert(Alert(**{**firing.to_dict(), "state": "resolved", "resolved_at": T0 + 90}))
    assert [a.id for a in store.alerts()] == [other.id, done.id]
    assert [a.name for a in store.alerts(active=True)] == ["canary_failed"]
    assert [a.state for a in store.alerts(active=False)] == ["resolved"]
    assert [a.id for a in store.alerts(since=T0 + 5)] == [other.id]
    assert other.id is not None
    store.delete_alert(other.id)
    assert store.alerts(active=True) == []
    assert store.alerts()[0] == done
