"""The embedded SQLite directory at start: a missing or damaged
DATA/yubin.db is an installation error, so yubind refuses to start and
says why, instead of starting on an empty directory that would refuse
every recipient (the PostgreSQL directory being down at start is an
outage instead: test_directory_pg.py)."""

import os

import pytest

import helpers


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("dirstart")).setup()
    yield s
    s.stop()


def start_fails(srv):
    with pytest.raises(AssertionError) as e:
        srv.start()
    return str(e.value)


def test_missing_directory_refuses_to_start(srv):
    db = os.path.join(srv.data, "yubin.db")
    os.rename(db, db + ".away")
    try:
        out = start_fails(srv)
        assert "yubin.db: No such file or directory" in out and "yubinctl init" in out, out
        assert not os.path.exists(db)	# not made empty behind the operator's back
    finally:
        os.rename(db + ".away", db)
    srv.start()
    srv.stop()


def test_damaged_directory_refuses_to_start(srv):
    db = os.path.join(srv.data, "yubin.db")
    os.rename(db, db + ".good")
    try:
        with open(db, "wb") as f:
            f.write(b"this is not an SQLite database\n" * 200)
        out = start_fails(srv)
        assert "directory: cannot open" in out, out
    finally:
        os.replace(db + ".good", db)
