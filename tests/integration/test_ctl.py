"""yubinctl: init, domains, accounts, validation the way the panel does it,
and config get/set. No daemon is needed."""

import json
import os
import subprocess

import pytest

import helpers
from helpers import DOMAIN, HOSTNAME, PASSWORD, Server


@pytest.fixture
def ctl(tmp_path):
    """A fresh data directory with example.test and no accounts."""
    return Server(tmp_path, accounts=[]).setup()


def fails(p, status=1):
    """yubinctl refused with its documented exit status (1: refused or
    failed, 2: usage error), said why, and did not crash: a signal gives a
    negative status, and a sanitizer report in stderr fails too (UBSan's
    halt_on_error exits with 1, like a refusal)."""
    assert p.returncode == status, "expected exit status %d, got %d:\n%s%s" % (status, p.returncode, p.out, p.err)
    assert p.err.startswith("yubinctl: "), "no message on stderr:\n%s%s" % (p.out, p.err)
    for marker in helpers.SANITIZER_MARKERS:
        assert marker not in p.err, p.err
    return p


def add(ctl, addr, password=PASSWORD, quota=None, check=False):
    args = ["account", "add", addr, "--password-stdin"]
    if quota is not None:
        args += ["--quota", str(quota)]
    return ctl.ctl(*args, input=password + "\n", check=check)


def exists(ctl, addr):
    return ctl.ctl("account", "show", addr, check=False).returncode == 0


def show(ctl, addr):
    return json.loads(ctl.ctl("account", "show", addr, "--json").out)


def field(obj, word):
    for k, v in obj.items():
        if word in k.lower() and isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
    for v in obj.values():
        if isinstance(v, dict):
            r = field(v, word)
            if r is not None:
                return r
    return None


def quota_mb(ctl, addr):
    j = show(ctl, addr)
    q = field(j, "quota")
    assert q is not None, "no quota field in %r" % j
    return q if q <= 5000 else q / (1024 * 1024)


# ---------------------------------------------------------------- init

def test_init_layout_and_certificate(ctl):
    assert os.path.isfile(os.path.join(ctl.data, "yubin.conf"))
    assert os.path.isfile(os.path.join(ctl.data, "yubin.db"))
    assert os.path.isfile(ctl.crt)
    p = subprocess.run(["openssl", "x509", "-in", ctl.crt, "-noout", "-subject", "-ext", "subjectAltName"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = p.stdout.decode()
    assert p.returncode == 0, out
    assert "CN = " + HOSTNAME in out or "CN=" + HOSTNAME in out, out
    assert "DNS:" + HOSTNAME in out, out
    assert ctl.ctl("config", "get", "hostname").out.strip() == HOSTNAME


def test_init_port_offset(ctl):
    for key, std in (("smtp.port", 25), ("submission.port", 587), ("smtps.port", 465),
                     ("pop3.port", 110), ("pop3s.port", 995)):
        assert ctl.ctl("config", "get", key).out.strip() == str(ctl.offset + std), key


# ---------------------------------------------------------------- local parts

@pytest.mark.parametrize("local", [".user", "user.", "a..b", "a b", "a@b", "", "us\u00e9r", "a/b", "a+b"])
def test_bad_local_part_refused(ctl, local):
    addr = local + "@" + DOMAIN
    fails(add(ctl, addr))
    assert "a..b" not in ctl.ctl("account", "list").out


def test_uppercase_local_part_lowered_or_refused(ctl):
    p = add(ctl, "Mixed.Case@" + DOMAIN)
    if p.returncode == 0:
        assert exists(ctl, "mixed.case@" + DOMAIN)
        listing = ctl.ctl("account", "list").out
        assert "mixed.case@" + DOMAIN in listing, listing
        assert "Mixed.Case" not in listing, listing
        # and the same name in another case is a duplicate
        fails(add(ctl, "MIXED.case@" + DOMAIN))
    else:
        fails(p)
        assert not exists(ctl, "mixed.case@" + DOMAIN)


def test_local_part_length(ctl):
    fails(add(ctl, "a" * 65 + "@" + DOMAIN))
    assert not exists(ctl, "a" * 65 + "@" + DOMAIN)
    p = add(ctl, "b" * 64 + "@" + DOMAIN)
    assert p.returncode == 0, p.err
    assert exists(ctl, "b" * 64 + "@" + DOMAIN)


def test_valid_local_part_characters(ctl):
    for local in ("john.smith", "a-b_c", "x1"):
        p = add(ctl, local + "@" + DOMAIN)
        assert p.returncode == 0, (local, p.err)
        assert exists(ctl, local + "@" + DOMAIN)


def test_duplicate_account_refused(ctl):
    assert add(ctl, "dup@" + DOMAIN).returncode == 0
    fails(add(ctl, "dup@" + DOMAIN))


def test_account_in_missing_domain(ctl):
    fails(add(ctl, "user@missing.test"))
    assert not exists(ctl, "user@missing.test")


# ---------------------------------------------------------------- passwords

@pytest.mark.parametrize("pw", ["Ab1-xyz", "", "12345678901", "x" * 33, "has space 123", "password123"])
def test_bad_password_refused(ctl, pw):
    fails(add(ctl, "pwtest@" + DOMAIN, password=pw))
    assert not exists(ctl, "pwtest@" + DOMAIN)


def test_password_equal_to_local_part_refused(ctl):
    fails(add(ctl, "johnsmith@" + DOMAIN, password="johnsmith"))
    fails(add(ctl, "johnsmith@" + DOMAIN, password="JohnSmith"))
    fails(add(ctl, "johnsmith@" + DOMAIN, password="johnsmith@" + DOMAIN))
    assert not exists(ctl, "johnsmith@" + DOMAIN)


def test_passwd_validates(ctl):
    assert add(ctl, "pw2@" + DOMAIN).returncode == 0
    fails(ctl.ctl("account", "passwd", "pw2@" + DOMAIN, "--password-stdin", input="1234567890\n", check=False))
    p = ctl.ctl("account", "passwd", "pw2@" + DOMAIN, "--password-stdin", input="Fresh-pw-2468\n", check=False)
    assert p.returncode == 0, p.err
    fails(ctl.ctl("account", "passwd", "ghost@" + DOMAIN, "--password-stdin", input="Fresh-pw-2468\n",
                  check=False))


# ---------------------------------------------------------------- quota

@pytest.mark.parametrize("mb", ["0", "5001", "-1", "abc", "99999999999999999999"])
def test_bad_quota_refused(ctl, mb):
    fails(add(ctl, "q@" + DOMAIN, quota=mb))
    assert not exists(ctl, "q@" + DOMAIN)


def test_quota_bounds_and_default(ctl):
    assert add(ctl, "qmin@" + DOMAIN, quota=1).returncode == 0
    assert add(ctl, "qmax@" + DOMAIN, quota=5000).returncode == 0
    assert add(ctl, "qdef@" + DOMAIN).returncode == 0
    assert quota_mb(ctl, "qmin@" + DOMAIN) == 1
    assert quota_mb(ctl, "qmax@" + DOMAIN) == 5000
    assert quota_mb(ctl, "qdef@" + DOMAIN) == 2000


def test_account_quota_command(ctl):
    addr = "qq@" + DOMAIN
    assert add(ctl, addr).returncode == 0
    ctl.ctl("account", "quota", addr, "300")
    assert quota_mb(ctl, addr) == 300
    fails(ctl.ctl("account", "quota", addr, "0", check=False))
    fails(ctl.ctl("account", "quota", addr, "5001", check=False))
    assert quota_mb(ctl, addr) == 300


def test_show_json_fields(ctl):
    addr = "js@" + DOMAIN
    assert add(ctl, addr, quota=10).returncode == 0
    j = show(ctl, addr)
    assert isinstance(j, dict)
    assert field(j, "quota") is not None, j
    usage = field(j, "usage")
    assert usage == 0, j
    assert addr in json.dumps(j), j


def test_show_missing_account(ctl):
    fails(ctl.ctl("account", "show", "ghost@" + DOMAIN, check=False))
    fails(ctl.ctl("account", "show", "ghost@" + DOMAIN, "--json", check=False))


# ---------------------------------------------------------------- domains

@pytest.mark.parametrize("dom", ["nodot", "-bad.test", "bad-.test", "a..test", "sp ace.test", "x" * 64 + ".test"])
def test_bad_domain_refused(ctl, dom):
    # a word starting with '-' is an option: an unknown one is a usage error
    fails(ctl.ctl("domain", "add", dom, check=False), status=2 if dom.startswith("-") else 1)


def test_duplicate_domain_refused(ctl):
    fails(ctl.ctl("domain", "add", DOMAIN, check=False))


def test_domain_del_needs_force(ctl):
    ctl.ctl("domain", "add", "second.test")
    assert add(ctl, "someone@second.test").returncode == 0
    fails(ctl.ctl("domain", "del", "second.test", check=False))
    assert "second.test" in ctl.ctl("domain", "list").out
    assert exists(ctl, "someone@second.test")
    p = ctl.ctl("domain", "del", "second.test", "--force", check=False)
    assert p.returncode == 0, p.err
    assert "second.test" not in ctl.ctl("domain", "list").out
    assert not exists(ctl, "someone@second.test")
    # the other domain is untouched
    assert DOMAIN in ctl.ctl("domain", "list").out


def test_domain_del_empty(ctl):
    ctl.ctl("domain", "add", "empty.test")
    p = ctl.ctl("domain", "del", "empty.test", check=False)
    assert p.returncode == 0, p.err
    assert "empty.test" not in ctl.ctl("domain", "list").out


def test_account_del(ctl):
    addr = "gone@" + DOMAIN
    assert add(ctl, addr).returncode == 0
    ctl.ctl("account", "del", addr)
    assert not exists(ctl, addr)
    fails(ctl.ctl("account", "del", addr, check=False))


# ---------------------------------------------------------------- config

@pytest.mark.parametrize("key,value", [("smtp.max_recipients", "42"), ("smtp.timeout", "2"),
                                       ("smtp.max_connections_per_ip", "3"),
                                       ("smtp.max_line_length", "512"),
                                       ("smtp.max_message_size", "1048576")])
def test_config_round_trip(ctl, key, value):
    ctl.ctl("config", "set", key, value)
    assert ctl.ctl("config", "get", key).out.strip() == value
    with open(os.path.join(ctl.data, "yubin.conf")) as f:
        assert key in f.read()


def test_config_size_suffix(ctl):
    ctl.ctl("config", "set", "smtp.max_message_size", "64K")
    v = ctl.ctl("config", "get", "smtp.max_message_size").out.strip()
    assert v in ("64K", "65536"), v


def test_config_unknown_key(ctl):
    fails(ctl.ctl("config", "get", "smtp.no_such_key", check=False))
    fails(ctl.ctl("config", "set", "smtp.no_such_key", "1", check=False))
    with open(os.path.join(ctl.data, "yubin.conf")) as f:
        assert "no_such_key" not in f.read()


@pytest.mark.parametrize("key,value", [("smtp.max_recipients", "abc"), ("smtp.max_recipients", "0"),
                                       ("smtp.max_line_length", "100"), ("smtp.timeout", "-5"),
                                       ("smtp.max_message_size", "12Q")])
def test_config_bad_value(ctl, key, value):
    before = ctl.ctl("config", "get", key).out.strip()
    fails(ctl.ctl("config", "set", key, value, check=False))
    assert ctl.ctl("config", "get", key).out.strip() == before


# ---------------------------------------------------------------- exit status

@pytest.mark.parametrize("args", [["no-such-command"], ["account"], ["account", "frobnicate"],
                                  ["account", "add"], ["config", "get", "a", "b"], ["--bogus", "domain", "list"]])
def test_usage_error_exits_2(ctl, args):
    p = fails(ctl.ctl(*args, check=False), status=2)
    assert "usage: yubinctl" in p.err, p.err


def test_help_exits_0_and_names_the_exit_status(ctl):
    p = ctl.ctl("--help")
    assert "usage: yubinctl" in p.out
    assert "Exit status: 0 done, 1 refused or failed" in p.out and "2 usage error" in p.out, p.out
