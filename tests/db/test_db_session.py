"""The engine's pool across a PostgreSQL restart (soundy.db.session.create_engine): an idle
connection is pinged and replaced, so the first query after the restart is served; a connection
in steady use is not pinged, so a restart costs it one failed query, after which the whole pool
is replaced (also when that query was asyncpg's own, ``fetch_row``). A real server of the
test's own, restarted with a fast shutdown."""

from __future__ import annotations

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from private_services import PrivatePostgres
from soundy.db.session import create_engine, fetch_row


@pytest.fixture
def postgres(private_tmp_dir):
    server = PrivatePostgres(private_tmp_dir / "postgres")
    server.start()
    yield server
    server.kill()


async def _backend_pid(engine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_an_idle_connection_is_pinged_so_a_restart_fails_no_query(postgres):
    # 0 s: every connection back in the pool counts as idle when it is next checked out.
    engine = create_engine(postgres.url(), pool_size=2, idle_ping_after_s=0.0)
    try:
        before = await _backend_pid(engine)
        postgres.restart()
        after = await _backend_pid(engine)  # the dead connection failed its ping: a new one
        assert after != before
    finally:
        await engine.dispose()


async def test_a_busy_connection_fails_once_then_the_pool_is_renewed(postgres):
    # Never idle long enough to be pinged: the cost named in docs/configuration.md.
    engine = create_engine(postgres.url(), pool_size=2, idle_ping_after_s=3600.0)
    try:
        async with engine.connect() as one, engine.connect() as two:
            for connection in (one, two):
                await connection.execute(text("SELECT 1"))
        postgres.restart()
        with pytest.raises(sqlalchemy.exc.DBAPIError) as failed:
            await _backend_pid(engine)
        assert failed.value.connection_invalidated
        # The disconnect dropped the pool's other connection too: both next ones are new.
        async with engine.connect() as one, engine.connect() as two:
            for connection in (one, two):
                assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


async def test_fetch_row_runs_a_statement_and_a_lost_connection_renews_the_pool(postgres):
    engine = create_engine(postgres.url(), pool_size=2, idle_ping_after_s=3600.0)
    try:
        async with engine.connect() as one, engine.connect() as two:
            row = await fetch_row(one, "SELECT $1::int + 1 AS n, pg_backend_pid() AS pid", 41)
            assert row is not None and row["n"] == 42
            await fetch_row(two, "SELECT 1")
            first_pids = {row["pid"], (await fetch_row(two, "SELECT pg_backend_pid()"))[0]}
        postgres.restart()
        async with engine.connect() as connection:
            with pytest.raises(sqlalchemy.exc.OperationalError) as failed:
                await fetch_row(connection, "SELECT 1")
            assert failed.value.connection_invalidated
        # Both of the pool's connections were replaced, not only the one that failed.
        async with engine.connect() as one, engine.connect() as two:
            pids = {(await fetch_row(c, "SELECT pg_backend_pid()"))[0] for c in (one, two)}
        assert pids.isdisjoint(first_pids) and len(pids) == 2
    finally:
        await engine.dispose()
