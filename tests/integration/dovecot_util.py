"""A private Dovecot (Debian's dovecot-imapd) for differential IMAP tests:
its own config, certificate, users and Maildirs under a temporary
directory, IMAPS on a loopback port. The system's Dovecot is never used."""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import helpers
import outbound_util

CONF = """\
base_dir = {base}/run
state_dir = {base}/state
instance_name = yubin-test-{port}
listen = 127.0.0.1
protocols = imap
log_path = {base}/dovecot.log
ssl = required
ssl_cert = <{base}/cert.pem
ssl_key = <{base}/key.pem
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={base}/mail/%d/%n
}}
mail_location = maildir:{base}/mail/%d/%n
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}
}}
"""


def have_dovecot():
    """Installed (scripts/deps.sh test). Not being root is no reason to skip
    the comparison: Dovecot.start() fails then."""
    return shutil.which("dovecot") is not None and os.path.exists("/usr/lib/dovecot/imap")


class Dovecot:
    def __init__(self, base, port, users):
        self.base = str(base)
        self.port = port
        self.users = dict(users)
        self.master = None

    def start(self):
        assert os.geteuid() == 0, "the private Dovecot runs its login processes as other users: run the tests as root"
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o755)
        helpers.make_traversable(self.base)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=dovecot.test", "-keyout", os.path.join(self.base, "key.pem"),
                        "-out", os.path.join(self.base, "cert.pem")], check=True, capture_output=True)
        with open(os.path.join(self.base, "users"), "w") as f:
            for user, password in self.users.items():
                f.write("%s:{PLAIN}%s\n" % (user, password))
        nobody = pwd.getpwnam("nobody").pw_uid
        mail = os.path.join(self.base, "mail")
        os.makedirs(mail, exist_ok=True)
        os.chown(mail, nobody, nobody)
        # another program may take the port between its choice and the
        # bind: then again on a new one
        for _ in range(5):
            err = self._start_once(nobody)
            if err is None:
                return self
            if "in use" not in err:
                break
            self.port = outbound_util.free_port("127.0.0.1")
        raise AssertionError("dovecot failed to start: %s\n-- dovecot.log:\n%s" % (err, self.log()[-3000:]))

    def log(self):
        try:
            with open(os.path.join(self.base, "dovecot.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def _start_once(self, nobody):
        """None when Dovecot listens on self.port, else why not."""
        conf = os.path.join(self.base, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(CONF.format(base=self.base, port=self.port, uid=nobody))
        # dovecot daemonizes: give it a file, not a pipe it would keep open
        errf = os.path.join(self.base, "start.err")
        with open(errf, "w") as ef:
            p = subprocess.run(["dovecot", "-c", conf], stdin=subprocess.DEVNULL, stdout=ef,
                               stderr=ef, timeout=60)
        if p.returncode != 0:
            with open(errf) as ef:
                return ef.read()
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with open(os.path.join(self.base, "run", "master.pid")) as f:
                    self.master = int(f.read().strip())
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return None
            except (OSError, ValueError):
                time.sleep(0.1)
        self.stop()
        return "did not listen on %d: %s" % (self.port, self.log()[-1000:])

    def stop(self):
        if self.master is not None:
            try:
                os.kill(self.master, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(100):
                try:
                    os.kill(self.master, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            self.master = None
