"""Differential test of the Sieve engine against Pigeonhole, the reference
implementation: every script x message pair of tests/sieve/corpus/cases.txt
goes through build/tests/sieve_run (Yubin) and Debian's sieve-test
(dovecot-sieve); the normalised action lists must be equal, except for the
pairs tests/sieve/allowlist.txt lists with the reason (SCRIPT/MESSAGE,
SCRIPT/* or */MESSAGE)."""
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "sieve", "corpus")
BUILD = os.environ.get("YUBIN_BUILD", "build")
DRIVER = os.path.join(ROOT, BUILD, "tests", "sieve_run")
SIEVE_TEST = shutil.which("sieve-test") or "/usr/bin/sieve-test"
FROM = "sender@example.org"
TO = "recipient@example.com"


def cases():
    with open(os.path.join(CORPUS, "cases.txt")) as f:
        return [tuple(line.split()) for line in f if line.strip()]


def allowlist():
    allowed = {}
    with open(os.path.join(ROOT, "tests", "sieve", "allowlist.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, reason = line.split(None, 1)
            allowed[key] = reason
    return allowed


def yubin_actions(script, message):
    out = subprocess.run([DRIVER, "-f", FROM, "-r", TO, script, message], capture_output=True,
                         encoding="utf-8", errors="replace", timeout=30, check=True).stdout
    return sorted(line for line in out.splitlines() if line)


def _flags(text):
    return "flags=" + ",".join(sorted(text.lower().split()))


def parse_pigeonhole(out, err):
    """sieve-test's report into the driver's normalised lines."""
    if "failed to compile" in err:
        return ["compile-error"]
    if "resolved with successful implicit keep" in err and "final result: failed" in err:
        return sorted(["error", "implicit-keep INBOX"])
    lines, section, last = [], None, None
    for raw in out.splitlines():
        if raw.startswith("Performed actions:"):
            section = "store"
            continue
        if raw.startswith("Implicit keep:"):
            section = "implicit-keep"
            continue
        m = re.match(r"^ \* (.*)$", raw)
        if m:
            what = m.group(1)
            last = None
            f = re.match(r"store message in folder: (.*)$", what)
            if f:
                lines.append("%s %s" % (section, f.group(1)))
                last = len(lines) - 1
            elif what.startswith("redirect message to: "):
                lines.append("redirect " + what[len("redirect message to: "):].strip("<>"))
            elif what == "discard":
                lines.append("discard")
            elif what.startswith("reject message"):
                lines.append("reject")
            elif what.startswith("send vacation message"):
                lines.append("vacation")
            elif what.startswith("ereject") or what.startswith("refuse message"):
                lines.append("ereject")
            else:
                lines.append("unknown: " + what)
            continue
        f = re.match(r"^\s+\+ add IMAP flags: (.*)$", raw)
        if f and last is not None:
            lines[last] += " " + _flags(f.group(1))
    return sorted(lines)


@pytest.fixture(scope="module")
def pigeonhole():
    if not os.path.exists(SIEVE_TEST):
        pytest.fail("sieve-test is missing: scripts/deps.sh test installs dovecot-sieve")
    work = tempfile.mkdtemp(prefix="yubin-sieve-")
    os.chmod(work, 0o777)
    if os.getuid() == 0:
        uid = gid = pwd.getpwnam("nobody").pw_uid
        gid = pwd.getpwnam("nobody").pw_gid
    else:
        uid, gid = os.getuid(), os.getgid()
    conf = os.path.join(work, "dovecot.conf")
    with open(conf, "w") as f:
        f.write("mail_uid = %d\nmail_gid = %d\nplugin {\n"
                "  sieve_extensions = +vacation-seconds\n}\n" % (uid, gid))
    for sub in ("script", "msg"):
        shutil.copytree(os.path.join(CORPUS, sub), os.path.join(work, sub))
    for dirpath, dirs, files in os.walk(work):
        os.chmod(dirpath, 0o777)
        for n in files:
            os.chmod(os.path.join(dirpath, n), 0o644)
    yield work, conf
    shutil.rmtree(work, ignore_errors=True)


def pigeonhole_actions(work, conf, script, message):
    p = subprocess.run([SIEVE_TEST, "-c", conf, "-l", "maildir:" + os.path.join(work, "mail"),
                        "-f", FROM, "-r", TO, os.path.join(work, "script", script + ".sieve"),
                        os.path.join(work, "msg", message + ".eml")],
                       capture_output=True, encoding="utf-8", errors="replace", timeout=60)
    return parse_pigeonhole(p.stdout, p.stderr)


def test_corpus_size():
    all_cases = cases()
    assert len(all_cases) >= 200
    jp = [c for c in all_cases if c[1] in ("iso2022jp", "sjis")]
    assert len(jp) >= 40


def test_driver_reports_compile_errors():
    script = os.path.join(CORPUS, "script", "bad_unknown.sieve")
    message = os.path.join(CORPUS, "msg", "plain.eml")
    assert yubin_actions(script, message) == ["compile-error"]


def test_same_actions_as_pigeonhole(pigeonhole):
    work, conf = pigeonhole
    allowed = allowlist()
    todo = cases()

    def one(case):
        script, message = case
        mine = yubin_actions(os.path.join(CORPUS, "script", script + ".sieve"),
                             os.path.join(CORPUS, "msg", message + ".eml"))
        theirs = pigeonhole_actions(work, conf, script, message)
        return case, mine, theirs

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, todo))
    diffs, used = [], set()
    for (script, message), mine, theirs in results:
        key = "%s/%s" % (script, message)
        if mine == theirs:
            continue
        for k in (key, "%s/*" % script, "*/%s" % message):
            if k in allowed:
                used.add(k)
                break
        else:
            diffs.append("%s: yubin %s, pigeonhole %s" % (key, mine, theirs))
    assert not diffs, "\n".join(diffs)
    # an entry that no longer explains a difference must go
    assert sorted(set(allowed) - used) == []
