"""yubinctl commands of the shared operations layer: audit, account
add-bulk (all or none, the bad line named), and the audit rows every change
writes. No daemon is needed."""

import getpass
import json

import pytest

from helpers import DOMAIN, PASSWORD, Server


@pytest.fixture
def ctl(tmp_path):
    s = Server(tmp_path, accounts=[]).setup()
    # the rows of the set-up itself (its domain add and config sets)
    p = s.ctl("audit", "--json", "--limit", "10000")
    s.setup_audit_ids = {r["id"] for r in json.loads(p.out)}
    return s


def refused(p, status=1):
    assert p.returncode == status, "expected %d, got %d:\n%s%s" % (status, p.returncode, p.out, p.err)
    assert p.err.startswith("yubinctl: "), p.err
    return p


def exists(ctl, addr):
    return ctl.ctl("account", "show", addr, check=False).returncode == 0


def audit(ctl, *args):
    """The audit rows, without the set-up's own (domain add, config sets)."""
    p = ctl.ctl("audit", "--json", *args)
    assert p.returncode == 0, p.err
    return [r for r in json.loads(p.out) if r["id"] not in ctl.setup_audit_ids]


def test_domain_add_del_audited(ctl):
    assert ctl.ctl("domain", "add", "Other.test").returncode == 0
    ctl.ctl("account", "add", "a@other.test", "--password-stdin", input=PASSWORD + "\n")
    refused(ctl.ctl("domain", "del", "other.test", check=False))
    assert ctl.ctl("domain", "del", "other.test", "--force").returncode == 0
    rows = audit(ctl)
    assert [(r["operation"], r["target"]) for r in rows] == [
        ("domain.del", "other.test"), ("account.add", "a@other.test"), ("domain.add", "other.test")]
    assert "1 accounts" in rows[0]["summary"]
    full = json.loads(ctl.ctl("audit", "--json", "--target", DOMAIN).out)
    assert [r["operation"] for r in full] == ["domain.add"]


# ---------------------------------------------------------------- add-bulk

def test_add_bulk_from_stdin(ctl):
    text = ("# address,password,MB,memo\n"
            "a1@%s,%s,100,first\n"
            "\n"
            "a2@%s,%s,,second, with a comma\n" % (DOMAIN, PASSWORD, DOMAIN, PASSWORD))
    p = ctl.ctl("account", "add-bulk", "-", input=text)
    assert p.returncode == 0, p.err
    assert "added 2 accounts" in p.out
    a2 = json.loads(ctl.ctl("account", "show", "a2@" + DOMAIN, "--json").out)
    assert "second, with a comma" in json.dumps(a2)
    assert PASSWORD not in p.out


def test_add_bulk_one_bad_line_changes_nothing(ctl, tmp_path):
    lines = ["u%d@%s,%s,10,memo %d" % (i, DOMAIN, PASSWORD, i) for i in range(100)]
    lines[57] = "u57@%s,%s,99999,too big" % (DOMAIN, PASSWORD)
    f = tmp_path / "bulk.csv"
    f.write_text("\n".join(lines) + "\n")
    p = refused(ctl.ctl("account", "add-bulk", str(f), check=False))
    assert "line 58" in p.err, p.err
    assert "no account was added" in p.err
    for i in (0, 56, 58, 99):
        assert not exists(ctl, "u%d@%s" % (i, DOMAIN))
    assert [r for r in audit(ctl) if r["operation"].startswith("account.add")] == []


@pytest.mark.parametrize("line, word", [
    ("bad address,%s" % PASSWORD, "not a valid address"),
    ("x@nowhere.test,%s" % PASSWORD, "domain does not exist"),
    ("x@%s,short" % DOMAIN, "password"),
    ("x@%s,%s,10,\x01" % (DOMAIN, PASSWORD), "memo"),
])
def test_add_bulk_refusals_name_the_line(ctl, line, word):
    text = "ok@%s,%s\n%s\n" % (DOMAIN, PASSWORD, line)
    p = refused(ctl.ctl("account", "add-bulk", "-", input=text, check=False))
    assert "line 2" in p.err and word in p.err, p.err
    assert not exists(ctl, "ok@" + DOMAIN)


def test_add_bulk_duplicate_and_existing(ctl):
    assert ctl.ctl("account", "add-bulk", "-", input="old@%s,%s\n" % (DOMAIN, PASSWORD)).returncode == 0
    p = refused(ctl.ctl("account", "add-bulk", "-", check=False,
                        input="n1@%s,%s\nOLD@%s,%s\n" % (DOMAIN, PASSWORD, DOMAIN, PASSWORD)))
    assert "line 2" in p.err and "already exists" in p.err
    p = refused(ctl.ctl("account", "add-bulk", "-", check=False,
                        input="n1@%s,%s\nn1@%s,%s\n" % (DOMAIN, PASSWORD, DOMAIN, PASSWORD)))
    assert "line 2" in p.err and "line 1" in p.err
    assert not exists(ctl, "n1@" + DOMAIN)


def test_add_bulk_limits(ctl, tmp_path):
    text = "".join("u%d@%s,%s\n" % (i, DOMAIN, PASSWORD) for i in range(101))
    p = refused(ctl.ctl("account", "add-bulk", "-", input=text, check=False))
    assert "at most 100" in p.err
    refused(ctl.ctl("account", "add-bulk", "-", input="# nothing\n\n", check=False))
    refused(ctl.ctl("account", "add-bulk", str(tmp_path / "missing.csv"), check=False))
    big = tmp_path / "big"
    big.write_bytes(b"x" * (200 * 1024))
    refused(ctl.ctl("account", "add-bulk", str(big), check=False))
    refused(ctl.ctl("account", "add-bulk", check=False), status=2)


# ---------------------------------------------------------------- audit

def test_audit_records_changes_without_secrets(ctl):
    addr = "who@" + DOMAIN
    assert ctl.ctl("account", "add", addr, "--password-stdin", input=PASSWORD + "\n").returncode == 0
    assert ctl.ctl("account", "passwd", addr, "--password-stdin", input="An0ther-pass-456\n").returncode == 0
    assert ctl.ctl("account", "quota", addr, "100").returncode == 0
    assert ctl.ctl("account", "set", addr, "memo", "hello").returncode == 0
    assert ctl.ctl("account", "disable", addr).returncode == 0
    assert ctl.ctl("account", "enable", addr).returncode == 0
    refused(ctl.ctl("account", "quota", addr, "0", check=False))
    rows = audit(ctl)
    ops = [r["operation"] for r in rows]
    assert ops == ["account.enable", "account.disable", "account.memo", "account.quota",
                   "account.passwd", "account.add"], ops
    me = "cli:" + getpass.getuser()
    for r in rows:
        assert r["actor"] == me and r["target"] == addr and r["time"].endswith("Z")
    assert "2000 MB -> 100 MB" in rows[3]["summary"]
    text = ctl.ctl("audit").out
    dump = json.dumps(rows) + text
    assert PASSWORD not in dump and "An0ther-pass-456" not in dump and "argon2" not in dump
    assert "account.quota " + addr in text


def test_audit_limit_and_target(ctl):
    ctl.ctl("domain", "add", "other.test")
    for a in ("a@" + DOMAIN, "b@other.test"):
        ctl.ctl("account", "add", a, "--password-stdin", input=PASSWORD + "\n")
    ctl.ctl("account", "del", "b@other.test")
    assert len(json.loads(ctl.ctl("audit", "--json", "--limit", "1").out)) == 1
    assert [r["target"] for r in audit(ctl, "--target", "other.test")] == ["b@other.test"] * 2 + ["other.test"]
    assert [r["target"] for r in audit(ctl, "--target", "A@" + DOMAIN.upper())] == ["a@" + DOMAIN]
    assert audit(ctl, "--target", "nobody.test") == []
    assert "no changes recorded" in ctl.ctl("audit", "--target", "nobody.test").out
    for bad in ("0", "x", "-1", "10001"):
        refused(ctl.ctl("audit", "--limit", bad, check=False), status=2)
    refused(ctl.ctl("audit", "extra", check=False), status=2)
    # by actor and by domain
    me = "cli:" + getpass.getuser()
    assert {r["actor"] for r in audit(ctl, "--actor", me)} == {me}
    assert audit(ctl, "--actor", "admin:nobody") == []
    assert {r["target"] for r in audit(ctl, "--domain", "other.test")} == {"b@other.test", "other.test"}
    refused(ctl.ctl("audit", "--domain", "not a domain", check=False))


# ---------------------------------------------------------------- admin

def test_admin_add_list_passwd_del(ctl):
    p = ctl.ctl("admin", "add", "alice", "--role", "domain", "--domain", DOMAIN.upper(),
                "--password-stdin", input=PASSWORD + "\n")
    assert p.returncode == 0 and "password:" not in p.out, p.out + p.err
    p = ctl.ctl("admin", "add", "root-admin", "--role", "server")
    assert p.returncode == 0
    generated = [l for l in p.out.splitlines() if l.startswith("password: ")]
    assert len(generated) == 1 and len(generated[0]) > len("password: ") + 8
    admins = json.loads(ctl.ctl("admin", "list", "--json").out)
    assert [(a["name"], a["role"], a["domains"]) for a in admins] == [
        ("alice", "domain", [DOMAIN]), ("root-admin", "server", [])]
    assert ctl.ctl("admin", "passwd", "alice", "--password-stdin", input="An0ther-pass-456\n").returncode == 0
    refused(ctl.ctl("admin", "passwd", "nobody", "--password-stdin", input="An0ther-pass-456\n", check=False))
    assert ctl.ctl("admin", "del", "alice").returncode == 0
    refused(ctl.ctl("admin", "del", "alice", check=False))
    ops = [r["operation"] for r in audit(ctl)]
    assert ops == ["admin.del", "admin.passwd", "admin.add", "admin.add"], ops
    dump = json.dumps(audit(ctl))
    assert PASSWORD not in dump and "An0ther-pass-456" not in dump and generated[0][10:] not in dump


@pytest.mark.parametrize("args, status", [
    (["admin", "add", "x"], 2),                                        # --role missing
    (["admin", "add", "x", "--role", "boss"], 1),
    (["admin", "add", "x", "--role", "server", "--domain", DOMAIN], 1),
    (["admin", "add", "x", "--role", "domain"], 1),                     # no domain
    (["admin", "add", "x", "--role", "domain", "--domain", "none.test"], 1),
    (["admin", "add", "Not Valid", "--role", "server"], 1),
    (["admin", "add", "x", "--role", "domain", "--domain", "bad domain!"], 1),
    (["admin", "del"], 2),
    (["admin", "list", "extra"], 2),
])
def test_admin_refusals(ctl, args, status):
    refused(ctl.ctl(*args, check=False), status=status)
    assert json.loads(ctl.ctl("admin", "list", "--json").out) == []
    assert audit(ctl) == []


def test_admin_short_password_and_duplicate(ctl):
    refused(ctl.ctl("admin", "add", "bob", "--role", "server", "--password-stdin", input="short\n", check=False))
    assert ctl.ctl("admin", "add", "bob", "--role", "server").returncode == 0
    refused(ctl.ctl("admin", "add", "BOB", "--role", "server", check=False))  # lower case only
    p = refused(ctl.ctl("admin", "add", "bob", "--role", "server", check=False))
    assert "already exists" in p.err


def test_admin_too_many_domains(ctl):
    args = ["admin", "add", "x", "--role", "domain"]
    for i in range(33):
        args += ["--domain", "d%d.test" % i]
    refused(ctl.ctl(*args, check=False), status=2)


# ---------------------------------------------------------------- token

def test_token_create_list_revoke(ctl):
    p = ctl.ctl("token", "create", "--role", "domain", "--domain", DOMAIN, "--expires", "30d")
    assert p.returncode == 0, p.err
    tokens = [l.split()[1] for l in p.out.splitlines() if l.startswith("token: ")]
    assert len(tokens) == 1 and tokens[0].startswith("yubin_")
    tid = tokens[0].split("_")[1]
    listed = json.loads(ctl.ctl("token", "list", "--json").out)
    assert [(t["id"], t["state"], t["role"], t["domains"], t["last_used"]) for t in listed] == [
        (tid, "active", "domain", DOMAIN, "")]
    text = ctl.ctl("token", "list").out
    secret = tokens[0].split("_")[2]
    assert secret not in text and secret not in json.dumps(listed)
    assert ctl.ctl("token", "revoke", tid).returncode == 0
    assert json.loads(ctl.ctl("token", "list", "--json").out)[0]["state"] == "revoked"
    refused(ctl.ctl("token", "revoke", "000000000000", check=False))
    rows = audit(ctl)
    assert [r["operation"] for r in rows] == ["token.revoke", "token.create"]
    assert secret not in json.dumps(rows)


@pytest.mark.parametrize("args, status", [
    (["token", "create"], 2),
    (["token", "create", "--role", "server", "--expires", "0"], 2),
    (["token", "create", "--role", "server", "--expires", "3651d"], 2),
    (["token", "create", "--role", "server", "--expires", "soon"], 2),
    (["token", "create", "--role", "domain"], 1),
    (["token", "create", "--role", "user"], 1),
    (["token", "create", "--role", "domain", "--domain", "none.test"], 1),
    (["token", "revoke"], 2),
])
def test_token_refusals(ctl, args, status):
    refused(ctl.ctl(*args, check=False), status=status)
    assert json.loads(ctl.ctl("token", "list", "--json").out) == []


def test_token_default_expiry_and_server_role(ctl):
    p = ctl.ctl("token", "create", "--role", "server")
    assert p.returncode == 0 and "expires" in p.out
    t = json.loads(ctl.ctl("token", "list", "--json").out)[0]
    assert t["role"] == "server" and t["domains"] == "" and t["state"] == "active"
    assert "no API tokens" not in ctl.ctl("token", "list").out
