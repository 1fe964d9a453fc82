"""ManageSieve (RFC 5804, issue 14 section 2) on sieve.port: Debian's
sieve-connect uploads, activates, lists and downloads a script; the
protocol by hand: capabilities before and after STARTTLS, no login
without TLS, the SASL exchange, PUTSCRIPT with literals (Japanese text),
broken scripts refused with the line, the script quota, the active script
kept from deletion and followed by a rename, hostile sizes closed, the
brute-force defence and the foreign-access restriction as for IMAP."""

import base64
import os
import subprocess

import pytest

import helpers
from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, LineConn
from protection_util import events, install_geoip

USER = "user@" + DOMAIN
OTHER = "other@" + DOMAIN
SIEVE_CONNECT = "/usr/bin/sieve-connect"

RULES = ('require ["fileinto"];\r\n'
         'if header :contains "subject" "セール" { fileinto "Junk"; }\r\n').encode()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = helpers.Server(tmp_path_factory.mktemp("managesieve"), accounts=[(USER,), (OTHER,)],
                       config={"sieve.max_scripts": "3", "sieve.max_script_size": "2K"}).setup()
    assert install_geoip(s)
    s.ctl("geoip", "override", "add", "127.0.0.2/32", "US")
    s.start()
    yield s
    s.stop()
    rep = s.sanitizer_report()
    assert rep is None, rep


class Sieve(LineConn):
    def response(self):
        """(lines before the status, status line) of one response."""
        lines = []
        while True:
            line = self.readline()
            if line.startswith((b"OK", b"NO", b"BYE")):
                return lines, line.rstrip(b"\r\n").decode()
            lines.append(line)

    def cmd(self, data):
        self.send(data if isinstance(data, bytes) else data.encode())
        return self.response()

    def starttls(self, srv):
        lines, st = self.cmd("STARTTLS\r\n")
        assert st.startswith("OK"), st
        self.upgrade(helpers.tls_context(srv))
        return self.response()

    def login(self, srv, user=USER, password=PASSWORD):
        plain = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        return self.cmd('AUTHENTICATE "PLAIN" "%s"\r\n' % plain)


def session(srv, user=USER, login=True):
    c = Sieve(srv.port("sieve"))
    c.response()
    c.starttls(srv)
    if login:
        _, st = c.login(srv, user)
        assert st == 'OK "Logged in"', st
    return c


def lit(data):
    return b"{%d+}\r\n" % len(data) + data


def test_sieve_connect_upload_activate_list_download(srv, tmp_path):
    local = tmp_path / "rules.sieve"
    local.write_bytes(RULES)
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    base = [SIEVE_CONNECT, "--server", HOST, "--port", str(srv.port("sieve")), "--user", OTHER,
            "--passwordfd", "3", "--tlscafile", srv.crt, "--tlshostname", HOSTNAME]

    def run(*args):
        # the password on descriptor 3, as --passwordfd 3 reads it
        return subprocess.run(["sh", "-c", 'exec "$@" 3<"$PWFILE"', "sh"] + base + list(args),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=60, text=True,
                              env=dict(os.environ, PWFILE=str(pw)))

    p = run("--localsieve", str(local), "--remotesieve", "振り分け", "--upload")
    assert p.returncode == 0, p.stderr
    assert run("--remotesieve", "振り分け", "--activate").returncode == 0
    p = run("--list")
    assert p.returncode == 0 and '"振り分け" ACTIVE' in p.stdout, (p.stdout, p.stderr)
    out = tmp_path / "back.sieve"
    p = run("--remotesieve", "振り分け", "--localsieve", str(out), "--download")
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == RULES
    bad = tmp_path / "bad.sieve"
    bad.write_text('if header :contains "subject" {\n  keep;\n')
    p = run("--localsieve", str(bad), "--remotesieve", "bad", "--upload")
    assert p.returncode != 0 and "line 1" in p.stdout + p.stderr, (p.stdout, p.stderr)
    p = run("--list")
    assert '"bad"' not in p.stdout


def test_capabilities_and_tls_first(srv):
    c = Sieve(srv.port("sieve"))
    caps, st = c.response()
    text = b"".join(caps).decode()
    assert st.startswith("OK") and '"STARTTLS"' in text and '"SASL" ""' in text, text
    assert '"IMPLEMENTATION" "Yubin"' in text and '"VERSION" "1.0"' in text
    sieve = [l for l in caps if l.startswith(b'"SIEVE"')][0].decode()
    for ext in ("fileinto", "vacation", "imap4flags", "variables", "body"):
        assert ext in sieve.split('"')[3].split(), sieve
    _, st = c.login(srv)
    assert st.startswith("NO (ENCRYPT-NEEDED)"), st
    _, st = c.cmd("LISTSCRIPTS\r\n")
    assert st.startswith("NO") and "Log in first" in st, st
    caps, st = c.starttls(srv)
    text = b"".join(caps).decode()
    assert '"SASL" "PLAIN"' in text and "STARTTLS" not in text, text
    _, st = c.cmd("STARTTLS\r\n")
    assert st.startswith("NO"), st
    # the SASL exchange with a challenge; a cancelled one
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""\r\n'
    _, st = c.cmd('"*"\r\n')
    assert st == 'NO "Authentication cancelled"', st
    c.send('AUTHENTICATE "PLAIN"\r\n')
    assert c.readline() == b'""\r\n'
    _, st = c.cmd(lit(base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())) + b"\r\n")
    assert st == 'OK "Logged in"', st
    caps, st = c.cmd("CAPABILITY\r\n")
    assert b'"OWNER" "%s"\r\n' % USER.encode() in caps
    _, st = c.cmd('NOOP "tag-1"\r\n')
    assert st == 'OK (TAG "tag-1") "Done"', st
    _, st = c.cmd("LOGOUT\r\n")
    assert st.startswith("OK") and c.wait_closed()


def test_scripts_by_hand(srv):
    c = session(srv)
    _, st = c.cmd(b'PUTSCRIPT "a" ' + lit(RULES) + b"\r\n")
    assert st == 'OK "Stored"', st
    _, st = c.cmd(b'PUTSCRIPT "b" "keep;"\r\n')
    assert st.startswith("OK"), st
    lines, st = c.cmd("LISTSCRIPTS\r\n")
    assert lines == [b'"a"\r\n', b'"b"\r\n'] and st == "OK", (lines, st)
    _, st = c.cmd('SETACTIVE "a"\r\n')
    assert st.startswith("OK"), st
    _, st = c.cmd('SETACTIVE "nope"\r\n')
    assert st.startswith("NO (NONEXISTENT)"), st
    _, st = c.cmd('DELETESCRIPT "a"\r\n')
    assert st.startswith("NO (ACTIVE)"), st
    _, st = c.cmd('RENAMESCRIPT "a" "b"\r\n')
    assert st.startswith("NO (ALREADYEXISTS)"), st
    _, st = c.cmd('RENAMESCRIPT "a" "main"\r\n')
    assert st.startswith("OK"), st
    lines, st = c.cmd("LISTSCRIPTS\r\n")
    assert lines == [b'"b"\r\n', b'"main" ACTIVE\r\n'], lines
    c.send('GETSCRIPT "main"\r\n')
    assert c.readline() == b"{%d}\r\n" % len(RULES)
    assert c.readexact(len(RULES) + 2) == RULES + b"\r\n"
    assert c.readline() == b"OK\r\n"
    _, st = c.cmd('GETSCRIPT "zzz"\r\n')
    assert st.startswith("NO (NONEXISTENT)"), st
    # a broken script is refused with its line; the stored one stays
    _, st = c.cmd(b'PUTSCRIPT "main" ' + lit(b'require "fileinto";\r\nfileinto ;\r\n') + b"\r\n")
    assert st.startswith("NO") and "line 2" in st, st
    _, st = c.cmd(b'CHECKSCRIPT ' + lit(b'require "nosuchext";\r\n') + b"\r\n")
    assert st.startswith("NO") and "nosuchext" in st, st
    _, st = c.cmd(b'CHECKSCRIPT "keep;"\r\n')
    assert st == "OK", st
    # the quota: 3 scripts, 2K each
    _, st = c.cmd('HAVESPACE "c" 3000\r\n')
    assert st.startswith("NO (QUOTA/MAXSIZE)"), st
    _, st = c.cmd('HAVESPACE "c" 100\r\n')
    assert st == "OK", st
    _, st = c.cmd(b'PUTSCRIPT "c" "keep;"\r\n')
    assert st.startswith("OK"), st
    _, st = c.cmd('HAVESPACE "d" 10\r\n')
    assert st.startswith("NO (QUOTA/MAXSCRIPTS)"), st
    _, st = c.cmd(b'PUTSCRIPT "d" "keep;"\r\n')
    assert st.startswith("NO (QUOTA/MAXSCRIPTS)"), st
    _, st = c.cmd(b'PUTSCRIPT "c" "stop;"\r\n')     # replacing is no new script
    assert st.startswith("OK"), st
    _, st = c.cmd(b'PUTSCRIPT "c" ' + lit(b"#" * 3000) + b"\r\n")
    assert st.startswith("NO (QUOTA/MAXSIZE)"), st
    # names
    _, st = c.cmd(b'PUTSCRIPT "x/y" "keep;"\r\n')
    assert st.startswith("NO") and "script name" in st, st
    _, st = c.cmd('SETACTIVE ""\r\n')
    assert st.startswith("OK"), st
    for name in ("b", "c", "main"):
        _, st = c.cmd('DELETESCRIPT "%s"\r\n' % name)
        assert st.startswith("OK"), (name, st)
    lines, st = c.cmd("LISTSCRIPTS\r\n")
    assert lines == [] and st == "OK"
    c.close()


def test_each_account_sees_its_own(srv):
    a = session(srv)
    _, st = a.cmd(b'PUTSCRIPT "mine" "keep;"\r\n')
    assert st.startswith("OK"), st
    b = session(srv, OTHER)
    lines, _ = b.cmd("LISTSCRIPTS\r\n")
    assert b'"mine"\r\n' not in lines, lines
    _, st = b.cmd('GETSCRIPT "mine"\r\n')
    assert st.startswith("NO (NONEXISTENT)"), st
    _, st = a.cmd('DELETESCRIPT "mine"\r\n')
    assert st.startswith("OK")
    a.close()
    b.close()


def test_hostile_input(srv):
    c = session(srv)
    # a literal above any script size: the connection is closed
    c.send(b'PUTSCRIPT "big" {5000000+}\r\n')
    lines, st = c.response()
    assert st.startswith("BYE"), st
    assert c.wait_closed()
    c = session(srv)
    _, st = c.cmd('GARBAGE "x"\r\n')
    assert st == 'NO "Unknown command"', st
    _, st = c.cmd('GETSCRIPT "a\\qb"\r\n')
    assert st.startswith("NO") and "escaped" in st, st
    _, st = c.cmd("HAVESPACE \"a\"\r\n")
    assert st.startswith("NO") and "Syntax" in st, st
    _, st = c.cmd("NOOP\r\n")           # the session goes on
    assert st.startswith("OK")
    c.close()


def test_wrong_password_and_foreign_address(srv):
    c = session(srv, login=False)
    _, st = c.login(srv, USER, "wrong-password")
    assert st.startswith("NO") and "full mail address" in st, st
    ev = events(srv, "auth-failed", USER)
    assert ev and "sieve login refused" in ev[-1][2], ev
    c.close()
    # from a foreign address, with foreign-auth-mail on: refused like IMAP
    srv.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "on")
    try:
        import socket
        import ssl
        raw = socket.create_connection((HOST, srv.port("sieve")), timeout=20, source_address=("127.0.0.2", 0))
        c = Sieve.__new__(Sieve)
        c.sock, c.buf, c.tls = raw, b"", False
        c.response()
        c.starttls(srv)
        _, st = c.login(srv)
        assert st.startswith("NO") and "127.0.0.2" in st and "foreign" in st.lower(), st
        assert events(srv, "auth-foreign", USER)
        c.close()
    finally:
        srv.ctl("domain", "set", DOMAIN, "foreign-auth-mail", "off")
