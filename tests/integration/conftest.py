"""Fixtures for the Yubin integration tests.

Run:  YUBIN_BUILD=build /usr/bin/python3 -m pytest -q tests/integration
(YUBIN_BUILD=build-san runs the same tests against the ASan+UBSan build.)

Each test module starts its own yubind on a random port offset in a fresh
temporary data directory; tests that need special limits start their own.
When a test fails, the tail of every running daemon's stderr is attached to
its report.
"""

import fnmatch
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import helpers  # noqa: E402
import outbound_util  # noqa: E402


@pytest.fixture(scope="module")
def dns(tmp_path_factory):
    """The test DNS (dnsmasq on 127.0.0.1, see outbound_util.Dnsmasq), one
    per module; modules that need more records define their own."""
    d = outbound_util.Dnsmasq(tmp_path_factory.mktemp("dns")).start()
    yield d
    d.stop()


@pytest.fixture
def sink(tmp_path):
    """Postfix's smtp-sink as mx.remote.test, not started: call start()."""
    s = outbound_util.Sink(tmp_path / "remote")
    yield s
    s.stop()


def pytest_sessionstart(session):
    missing = [p for p in (helpers.YUBIND, helpers.YUBINCTL) if not os.access(p, os.X_OK)]
    if missing:
        raise pytest.UsageError("not built: %s (run make, or set YUBIN_BUILD)" % ", ".join(missing))


# A skipped test is a test that did not run. With YUBIN_STRICT_SKIPS=1
# (scripts/test.sh, so `make test`) a skip fails unless the test is on the
# reviewed list in tests/allowed-skips.txt; a developer running one file
# without the strict setting still sees plain skips.
ALLOWED_SKIPS = os.path.join(helpers.REPO, "tests", "allowed-skips.txt")


def allowed_skips():
    """{node id pattern: reason} from tests/allowed-skips.txt: one entry a
    line, `PATTERN  REASON` (fnmatch pattern on the node id, e.g.
    tests/integration/test_x.py::test_y), # starts a comment."""
    out = {}
    try:
        with open(ALLOWED_SKIPS) as f:
            for line in f:
                line = line.split("#", 1)[0].strip()
                if line:
                    pat, _, reason = line.partition(" ")
                    if not reason.strip():
                        raise pytest.UsageError("%s: %r has no reason" % (ALLOWED_SKIPS, pat))
                    out[pat] = reason.strip()
    except FileNotFoundError:
        pass
    return out


def _skip_allowed(item):
    # the node id relative to the repository, whatever the rootdir
    name = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    nodeid = os.path.relpath(str(item.fspath), helpers.REPO) + "::" + name
    return any(fnmatch.fnmatchcase(nodeid, pat) for pat in allowed_skips())


def _fail_unlisted_skip(item, rep):
    if not rep.skipped or hasattr(rep, "wasxfail") or os.environ.get("YUBIN_STRICT_SKIPS") != "1":
        return
    if _skip_allowed(item):
        return
    reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
    rep.outcome = "failed"
    rep.longrepr = ("skipped, and not on tests/allowed-skips.txt, so it fails: %s\n"
                    "(install what is missing with scripts/deps.sh test, or add the test "
                    "to the list with a reason after review)" % reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    _fail_unlisted_skip(item, rep)
    if not rep.failed:
        return
    shown = set()
    servers = [v for v in getattr(item, "funcargs", {}).values() if isinstance(v, helpers.Server)]
    servers += [s for s in helpers.ALL_SERVERS if s.running]
    for srv in servers:
        if id(srv) in shown:
            continue
        shown.add(id(srv))
        state = ""
        if srv.proc is not None and srv.proc.poll() is not None:
            state = ", EXITED with status %d" % srv.proc.returncode
        rep.sections.append(("yubind stderr (%s, offset %s%s)" % (srv.log_path, srv.offset, state),
                             srv.log_tail(200)))


# Under pytest-xdist (scripts/test.sh: --dist loadfile) each module goes
# whole to one worker, in collection order. The slowest modules (measured
# with --durations) go first, so that none of them starts last while the
# other workers have nothing left to do; a module's own order is kept, and
# a run without xdist keeps the plain order.
SLOW_FIRST = (
    "test_browser.py", "test_backpressure.py", "test_outbound.py",
    "test_webmail_compose.py", "test_webmail_browser.py", "test_sieve_diff.py",
    "test_doctor_questions.py", "test_webmail_write.py", "test_ctl.py",
    "test_doctor.py", "test_api_session.py", "test_smtp.py",
    "test_dns_async.py", "test_webmail_api.py", "test_pop3_atomic.py",
)


def pytest_collection_modifyitems(session, config, items):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda it: rank.get(os.path.basename(str(it.fspath)), len(rank)))


@pytest.fixture
def new_server(tmp_path):
    """Factory for a test's own server: new_server(config={...}, accounts=[...]).
    Started servers are stopped (and checked for sanitizer reports) at the end."""
    made = []

    def make(start=True, **kw):
        n = len(made)
        srv = helpers.Server(tmp_path / ("srv%d" % n), **kw).setup()
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    reports = []
    for srv in made:
        srv.stop()
        rep = srv.sanitizer_report()
        if rep:
            reports.append(rep)
    if reports:
        raise AssertionError("sanitizer report in yubind's log:\n" + "\n\n".join(reports))
