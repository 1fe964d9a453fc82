"""mbsync (isync) syncing a mailbox both ways over IMAPS against the real
daemon: everything arrives once, a local message is uploaded, and a second
run finds nothing to do (no errors, no duplicates)."""

import os
import subprocess

from helpers import DOMAIN, HOST, PASSWORD, SMTPConn, make_message, running_server

USER = "user@" + DOMAIN


def mbsync(rc):
    return subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, timeout=120)


def files(d):
    out = []
    for sub in ("new", "cur"):
        p = os.path.join(d, sub)
        if os.path.isdir(p):
            out += [os.path.join(p, f) for f in os.listdir(p)]
    return out


def test_mbsync_both_ways(tmp_path):
    with running_server(tmp_path / "mbsync", accounts=[(USER,)]) as server:
        c = SMTPConn(server.port("smtp"))
        c.ehlo().expect(250)
        for i in range(5):
            replies = c.send_mail("sender@client.test", [USER], make_message("mbsync-%d" % i))
            assert [r.code for r in replies] == [250, 250, 250]
        c.quit()
        local = tmp_path / "local"
        local.mkdir()
        rc = tmp_path / "mbsyncrc"
        # mbsync checks the certificate's name against Host; the tests reach
        # the server by address, so TLS (with full verification of
        # mail.example.test) runs in openssl s_client as mbsync's tunnel.
        tunnel = ("openssl s_client -quiet -connect %s:%d -servername mail.example.test"
                  " -verify_hostname mail.example.test -CAfile %s -verify_return_error"
                  % (HOST, server.port("imaps"), server.crt))
        rc.write_text(f"""IMAPAccount yubin
Tunnel "{tunnel}"
User {USER}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account yubin

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel all
Far :remote:
Near :local:
Patterns *
Create Both
SyncState *
Sync All
Expunge Both
""")
        r = mbsync(str(rc))
        assert r.returncode == 0, r.stderr.decode()
        assert len(files(local / "INBOX")) == 5
        for folder in ("Sent", "Drafts", "Trash", "Junk"):
            assert (local / folder).is_dir(), folder

        # a message written locally is uploaded to the server's Drafts
        with open(local / "Drafts" / "new" / "1700000000.local1.host", "wb") as fh:
            fh.write(b"From: user@example.test\nSubject: written offline\n\nhello\n")
        r = mbsync(str(rc))
        assert r.returncode == 0, r.stderr.decode()
        drafts = os.path.join(server.maildir(USER), ".Drafts")
        uploaded = [open(f, "rb").read() for f in files(drafts)]
        assert len(uploaded) == 1 and b"written offline" in uploaded[0]

        # a second run changes nothing: no duplicates either side
        r = mbsync(str(rc))
        assert r.returncode == 0, r.stderr.decode()
        assert len(files(local / "INBOX")) == 5
        assert len(files(local / "Drafts")) == 1
        assert len(files(drafts)) == 1
        assert len(server.messages(USER)) == 5
