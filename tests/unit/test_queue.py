"""The distributed queue's pure rules: periodic jobs' cron lines, the lock keys that hold the
per-host limit and one fetch per source, the cap on waiting jobs per slot; and the commands
refusing to start without a database."""

from __future__ import annotations

from pathlib import Path

from feeds.config.config import SourceConfig
from feeds.run.queue import WAITING_PER_SLOT, _fetch_jobs, every
from feeds.run.queuejobs import fetch_lock, host_lock
from tests.helpers import make_site, run_cli


def source(i: int, host: str = "a.example") -> SourceConfig:
    return SourceConfig(id=f"s{i}", url=f"https://{host}/{i}.xml", categories=("c",))


def test_every_rounds_down_to_a_period_cron_can_say() -> None:
    assert every(30) == "* * * * * */30"
    assert every(45) == "* * * * * */30"
    assert every(1) == "* * * * * */1"
    assert every(0.4) == "* * * * * */1"
    assert every(300) == "*/5 * * * *"
    assert every(420) == "*/6 * * * *"
    assert every(7200) == "0 */2 * * *"
    assert every(86400 * 3) == "0 */24 * * *"


def test_a_hosts_sources_share_per_host_slots_and_a_source_keeps_its_own() -> None:
    same_host = {host_lock(source(i), 2) for i in range(100)}
    assert len(same_host) == 2  # at most two of that host's fetches run at once
    assert host_lock(source(7), 2) == host_lock(source(7), 2)  # never two of one source
    assert host_lock(source(1, "a.example"), 4) != host_lock(source(1, "b.example"), 4)
    assert fetch_lock("x") != fetch_lock("y")


def test_the_tick_leaves_a_bounded_number_waiting_per_slot() -> None:
    due = [source(i) for i in range(3 * WAITING_PER_SLOT)]
    jobs = _fetch_jobs("feeds.fetch", due, 1, [])
    assert len(jobs) == WAITING_PER_SLOT  # one slot: the rest stay due for a later tick
    assert {j.queueing_lock for j in jobs} == {fetch_lock(s.id) for s in due[:WAITING_PER_SLOT]}
    busy = [host_lock(due[0], 1)] * (WAITING_PER_SLOT - 1)
    assert len(_fetch_jobs("feeds.fetch", due, 1, busy)) == 1


def test_worker_without_a_database_names_the_key(tmp_path: Path) -> None:
    site = make_site(tmp_path)
    for args in (("worker",), ("run", "--distributed")):
        proc = run_cli(*args, "-c", site.config, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "queue.database" in proc.stderr


def test_a_reload_cannot_move_the_databases_or_the_state_folder(tmp_path: Path) -> None:
    from feeds.config import config
    from feeds.run.queuerun import unchangeable

    def cfg(queue_db: str, store_db: str, state: str = "state") -> config.Config:
        site = make_site(
            tmp_path,
            f"state:\n  dir: {state}\n  database: {store_db}\nqueue:\n  database: {queue_db}\n",
        )
        return config.load(site.config)

    old = cfg("postgresql://q/a", "postgresql://s/a")
    assert unchangeable(old, cfg("postgresql://q/a", "postgresql://s/a")) is None
    moved = {
        "queue.database": cfg("postgresql://q/b", "postgresql://s/a"),
        "state.database": cfg("postgresql://q/a", "postgresql://s/b"),
        "state.dir": cfg("postgresql://q/a", "postgresql://s/a", "elsewhere"),
    }
    for key, new in moved.items():
        assert f"{key} cannot change while running" in (unchangeable(old, new) or ""), key


def test_the_tick_finds_new_due_and_no_longer_due_sources_tick_after_tick(
    tmp_path: Path,
) -> None:
    """``due_sources`` over several ticks of one process (which remembers the sources it
    saw stored): never-fetched sources first, then only those whose next attempt came."""
    import datetime as dt

    from feeds.config import config
    from feeds.run.queuejobs import Runtime, due_sources
    from feeds.store.parts import SourceState

    site = make_site(
        tmp_path,
        "sources:\n"
        + "".join(
            f"  - id: {i}\n    url: https://{i}.example/rss\n    categories: [c]\n" for i in "abc"
        ),
    )
    rt = Runtime(config.load(site.config))
    try:
        now = rt.now()

        def save(i: str, next_attempt: dt.datetime) -> None:
            state = SourceState(i, f"https://{i}.example/rss", next_attempt=next_attempt)
            rt.store().sources.save(state, now)

        def due() -> list[str]:
            return [s.id for s in due_sources(rt, set())]

        assert due() == ["a", "b", "c"]  # never fetched
        save("a", now + dt.timedelta(hours=1))
        save("b", now + dt.timedelta(hours=1))
        assert due() == ["c"]
        save("c", now + dt.timedelta(hours=1))
        assert due() == []
        save("b", now - dt.timedelta(seconds=1))
        assert due() == ["b"]
        assert due_sources(rt, {"fetch:b"}) == []  # its job is waiting already
    finally:
        rt.close()
