"""curl as a third, independent client: it sends over submission with
STARTTLS + AUTH and reads back over POP3S, verifying the certificate and
host name against the generated certificate."""

import os
import subprocess

from helpers import DOMAIN, HOST, HOSTNAME, PASSWORD, POP3Conn, make_message, running_server

USER = "user@" + DOMAIN

# curl's exit codes (man curl, EXIT CODES) for the refusals checked here: a
# crash of the server would give another one (e.g. 56, connection reset)
CURLE_SEND_ERROR = 55       # the server refused a command (here MAIL: 530)
CURLE_LOGIN_DENIED = 67


def assert_alive(server):
    """The daemon still runs and greets a new connection."""
    assert server.running, server.log_tail()
    c = POP3Conn(server.port("pop3"))
    assert c.greeting.startswith(b"+OK"), c.greeting
    c.quit()


def curl(server, *args, input=None):
    base = ["curl", "-sS", "--max-time", "20", "--cacert", server.crt,
            "--connect-to", "%s::%s:" % (HOSTNAME, HOST)]
    return subprocess.run(base + list(args), input=input, capture_output=True, timeout=30)


def test_curl_submission_then_pop3s(tmp_path):
    with running_server(tmp_path / "curl", accounts=[(USER,)]) as server:
        token = "curl-" + os.urandom(4).hex()
        msg = make_message(token, sender=USER)
        sub = server.port("submission")
        r = curl(server, "--ssl-reqd", "--url", "smtp://%s:%d" % (HOSTNAME, sub),
                 "--user", "%s:%s" % (USER, PASSWORD), "--mail-from", USER, "--mail-rcpt", USER,
                 "--upload-file", "-", input=msg)
        assert r.returncode == 0, r.stderr

        pop = server.port("pop3s")
        r = curl(server, "--url", "pop3s://%s:%d/1" % (HOSTNAME, pop), "--user", "%s:%s" % (USER, PASSWORD))
        assert r.returncode == 0, r.stderr
        assert token.encode() in r.stdout
        assert b"with ESMTPSA" in r.stdout

        # a wrong password is refused, and curl says so
        r = curl(server, "--url", "pop3s://%s:%d/" % (HOSTNAME, pop), "--user", "%s:wrong-password" % USER)
        assert r.returncode == CURLE_LOGIN_DENIED, r.stderr
        assert_alive(server)


def test_curl_refuses_plain_auth_without_tls(tmp_path):
    with running_server(tmp_path / "curl2", accounts=[(USER,)]) as server:
        r = curl(server, "--url", "smtp://%s:%d" % (HOSTNAME, server.port("submission")),
                 "--user", "%s:%s" % (USER, PASSWORD), "--mail-from", USER, "--mail-rcpt", USER,
                 "--upload-file", "-", input=b"Subject: x\r\n\r\nx\r\n")
        # curl does not offer AUTH because the server does not advertise it
        # before TLS; MAIL then gets 530 and curl fails.
        assert r.returncode == CURLE_SEND_ERROR and b"MAIL failed: 530" in r.stderr, r.stderr
        assert_alive(server)


def test_curl_imaps_fetch_and_list(tmp_path):
    with running_server(tmp_path / "curl3", accounts=[(USER,)]) as server:
        token = "curl-imap-" + os.urandom(4).hex()
        r = curl(server, "--ssl-reqd", "--url", "smtp://%s:%d" % (HOSTNAME, server.port("submission")),
                 "--user", "%s:%s" % (USER, PASSWORD), "--mail-from", USER, "--mail-rcpt", USER,
                 "--upload-file", "-", input=make_message(token, sender=USER))
        assert r.returncode == 0, r.stderr
        url = "imaps://%s:%d" % (HOSTNAME, server.port("imaps"))
        auth = ["--user", "%s:%s" % (USER, PASSWORD)]
        r = curl(server, "--url", url + "/", *auth)            # LIST
        assert r.returncode == 0, r.stderr
        assert b"INBOX" in r.stdout and b"\\Sent" in r.stdout, r.stdout
        r = curl(server, "--url", url + "/INBOX;UID=1", *auth)  # FETCH BODY[]
        assert r.returncode == 0, r.stderr
        assert token.encode() in r.stdout
        r = curl(server, "--url", url + "/INBOX?SUBJECT%20" + token, *auth)   # SEARCH
        assert r.returncode == 0, r.stderr
        assert b"SEARCH 1" in r.stdout, r.stdout
