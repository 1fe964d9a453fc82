"""Certificates for every mail host name (issue 15 §1) against Debian's
pebble: the daemon orders them at start (http-01 on its port 80), the
mail ports serve each name's certificate with host-name verification
against pebble's issuing CA, `yubinctl cert renew --force` replaces one
without a restart (also by tls-alpn-01 on port 443), an imported
certificate replaces it, an unreachable CA leaves the old one and an
event says why, and a name whose DNS points elsewhere is never ordered.
Names no certificate covers are recorded as tls-sni-unknown events."""
import json
import os
import socket
import ssl
import subprocess
import time

import pytest
from cryptography import x509

import acme_util
import outbound_util as ou
from helpers import HOST, Server

pytestmark = pytest.mark.skipif(not (acme_util.have_pebble() and ou.have_tools()),
                                reason="pebble or dnsmasq missing (scripts/deps.sh test)")

HERE = {"%s.%s" % (label, d): "127.0.0.1" for d in ("one.test", "two.test")
        for label in ("mail", "autoconfig", "mta-sts")}
HERE["extra.one.test"] = "127.0.0.1"
HERE["mail.three.test"] = "127.0.0.1"
ELSEWHERE = {"mail.far.test": "192.0.2.7", "autoconfig.far.test": "192.0.2.7",
             "mta-sts.far.test": "192.0.2.7"}


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("acme")
    hosts = dict(HERE)
    hosts.update(ELSEWHERE)
    dns = ou.Dnsmasq(base / "dns", hosts=hosts).start()
    srv = Server(base / "srv", domains=("example.test", "one.test", "two.test", "far.test"),
                 config={"dns.resolver": dns.resolver}).setup()
    peb = acme_util.Pebble(base / "pebble", dns.resolver, srv.port("http"), srv.port("https")).start()
    for k, v in (("acme.enabled", "on"), ("acme.directory", peb.directory), ("acme.ca_file", peb.ca),
                 ("acme.addresses", "127.0.0.1"), ("acme.contact", "postmaster@one.test")):
        srv.ctl("config", "set", k, v)
    srv.start()
    root = peb.issuing_root(str(base / "pebble-root.pem"))
    yield srv, peb, root, dns
    srv.stop()
    peb.stop()
    dns.stop()
    rep = srv.sanitizer_report()
    assert not rep, rep


def events(srv, kind):
    p = srv.ctl("security", "events", "--json", "--kind", kind, "--limit", "100")
    return json.loads(p.out)


def wait_for(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = fn()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def served(srv, service, name, cafile):
    """The certificate the port serves for SNI name, verified against
    cafile with host-name checking (fails the handshake otherwise)."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection((HOST, srv.port(service)), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=name) as t:
            der = t.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der)


def served_or_none(srv, service, name, cafile):
    """served(), or None while the port still shows a certificate that
    does not verify against cafile (a reload not yet done)."""
    try:
        return served(srv, service, name, cafile)
    except ssl.SSLCertVerificationError:
        return None


def issued_by_daemon(srv, name):
    return any(e.get("detail") == name for e in events(srv, "cert-issued"))


def test_daemon_issues_for_both_domains(env):
    srv, peb, root, _ = env
    for name in ("mail.one.test", "mail.two.test", "autoconfig.one.test", "mta-sts.two.test"):
        wait_for(name + " issued", lambda: issued_by_daemon(srv, name))
    # every TLS port, verified against pebble's issuing CA (once the
    # daemon has reloaded: its event comes first)
    for name in ("mail.one.test", "mail.two.test"):
        for service in ("imaps", "smtps"):
            cert = wait_for(name + " served on " + service, lambda: served_or_none(srv, service, name, root))
            sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            assert sans.get_values_for_type(x509.DNSName) == [name]
    st = os.stat(os.path.join(srv.data, "tls", "mail.one.test.key"))
    assert st.st_mode & 0o777 == 0o600
    st = os.stat(os.path.join(srv.data, "acme", "account.key"))
    assert st.st_mode & 0o777 == 0o600
    listed = {c["name"]: c for c in json.loads(srv.ctl("cert", "list", "one.test", "--json").out)}
    assert set(listed) == {"mail.one.test", "autoconfig.one.test", "mta-sts.one.test"}
    assert listed["mail.one.test"]["source"] == "acme" and listed["mail.one.test"]["covers"]


def test_new_domain_after_sighup(env):
    """A domain added while the daemon runs gets its certificates from
    the daemon's thread after a SIGHUP (no yubinctl cert renew)."""
    import signal
    srv, peb, root, _ = env
    srv.ctl("domain", "add", "three.test")
    os.kill(srv.proc.pid, signal.SIGHUP)
    wait_for("mail.three.test issued", lambda: issued_by_daemon(srv, "mail.three.test"))
    wait_for("mail.three.test served", lambda: served_or_none(srv, "imaps", "mail.three.test", root))
    # its other names have no DNS yet: a finding each, no order
    wait_for("the autoconfig.three.test finding", lambda: [
        e for e in events(srv, "cert-dns-elsewhere") if "autoconfig.three.test" in e["detail"]])
    assert "autoconfig.three.test" not in peb.log_text()


def test_name_whose_dns_points_elsewhere_is_not_ordered(env):
    srv, peb, root, _ = env
    wait_for("the far.test finding", lambda: [e for e in events(srv, "cert-dns-elsewhere")
                                              if "mail.far.test" in e["detail"]])
    p = srv.ctl("cert", "renew", "mail.far.test", "--json")
    (r,) = json.loads(p.out)
    assert r["outcome"] == "dns-elsewhere", r
    assert "192.0.2.7" in r["detail"]
    assert "far.test" not in peb.log_text()
    assert not os.path.exists(os.path.join(srv.data, "tls", "mail.far.test.crt"))
    # example.test has no A records at all: not ordered either
    p = srv.ctl("cert", "renew", "mail.example.test", "--json")
    assert json.loads(p.out)[0]["outcome"] == "dns-elsewhere"


def test_forced_renewal_is_served_without_restart(env):
    srv, peb, root, _ = env
    wait_for("mail.one.test", lambda: issued_by_daemon(srv, "mail.one.test"))
    before = served(srv, "imaps", "mail.one.test", root).serial_number
    pid = srv.proc.pid
    p = srv.ctl("cert", "renew", "mail.one.test", "--force", "--json")
    assert json.loads(p.out)[0]["outcome"] == "issued", p.out
    after = wait_for("the new certificate", lambda: (
        served(srv, "imaps", "mail.one.test", root).serial_number != before and
        served(srv, "imaps", "mail.one.test", root).serial_number))
    assert served(srv, "smtps", "mail.one.test", root).serial_number == after
    assert srv.proc.pid == pid and srv.proc.poll() is None
    # not due: a plain renew leaves it
    p = srv.ctl("cert", "renew", "mail.one.test", "--json")
    assert json.loads(p.out)[0]["outcome"] == "not-due"


def test_tls_alpn_01_on_port_443(env):
    srv, peb, root, _ = env
    wait_for("mail.two.test", lambda: issued_by_daemon(srv, "mail.two.test"))
    before = served(srv, "imaps", "mail.two.test", root).serial_number
    log = peb.log_text()
    tasks = log.count('Value:"mail.two.test"')
    http_tries = log.count("validate w/ HTTP: http://mail.two.test:")
    srv.ctl("config", "set", "acme.challenge", "tls-alpn-01")
    try:
        p = srv.ctl("cert", "renew", "mail.two.test", "--force", "--json")
    finally:
        srv.ctl("config", "set", "acme.challenge", "http-01")
    assert json.loads(p.out)[0]["outcome"] == "issued", p.out
    # pebble validated the name again, and not over HTTP (it logs only
    # those attempts)
    log = peb.log_text()
    assert log.count('Value:"mail.two.test"') == tasks + 1
    assert log.count("validate w/ HTTP: http://mail.two.test:") == http_tries
    wait_for("the tls-alpn-01 certificate",
             lambda: served(srv, "imaps", "mail.two.test", root).serial_number != before)
    # the challenge certificate is gone once validated
    assert os.listdir(os.path.join(srv.data, "acme", "tls-alpn")) == []


def test_unreachable_ca_keeps_the_old_certificate(env):
    srv, peb, root, _ = env
    wait_for("mta-sts.two.test", lambda: issued_by_daemon(srv, "mta-sts.two.test"))
    before = served(srv, "imaps", "mta-sts.two.test", root).serial_number
    dead = "https://127.0.0.1:%d/dir" % ou.free_port()
    srv.ctl("config", "set", "acme.directory", dead)
    try:
        p = srv.ctl("cert", "renew", "mta-sts.two.test", "--force", "--json", check=False)
    finally:
        srv.ctl("config", "set", "acme.directory", peb.directory)
    assert p.returncode == 1
    (r,) = json.loads(p.out)
    assert r["outcome"] == "failed" and "cannot connect" in r["detail"], r
    ev = [e for e in events(srv, "cert-failed") if e["detail"].startswith("mta-sts.two.test:")]
    assert ev and "cannot connect" in ev[0]["detail"] and "current certificate stays" in ev[0]["detail"]
    assert served(srv, "imaps", "mta-sts.two.test", root).serial_number == before
    shown = json.loads(srv.ctl("cert", "show", "mta-sts.two.test", "--json").out)
    assert shown["failures"] == 1 and "cannot connect" in shown["last_error"]
    # still valid: a plain renew leaves it, and says what failed
    p = srv.ctl("cert", "renew", "mta-sts.two.test", "--json")
    (r,) = json.loads(p.out)
    assert r["outcome"] == "not-due" and "last attempt failed" in r["detail"] and "cannot connect" in r["detail"], r


def test_orders_per_name_and_day_are_limited(env):
    srv, peb, root, _ = env
    wait_for("autoconfig.two.test", lambda: issued_by_daemon(srv, "autoconfig.two.test"))
    # the daemon's order was the first of the day; four more may follow
    issued = lambda: peb.log_text().count("Issued certificate serial")
    before = issued()
    outcomes = []
    for _ in range(5):
        p = srv.ctl("cert", "renew", "autoconfig.two.test", "--force", "--json", check=False)
        outcomes.append(json.loads(p.out)[0]["outcome"])
    assert outcomes == ["issued"] * 4 + ["limited"], outcomes
    # the four reached the CA, the fifth did not (counted by certificates
    # issued: pebble may reuse a valid authorization, and then logs no
    # validation with the name)
    wait_for("four certificates in pebble's log", lambda: issued() - before >= 4, timeout=15)
    assert issued() - before == 4


def test_added_name_backs_off_then_issues(env):
    srv, peb, root, _ = env
    # the CA unreachable before the name exists: the daemon's own run (a
    # new name wakes it) must not get it issued behind the test's back
    srv.ctl("config", "set", "acme.directory", "https://127.0.0.1:%d/dir" % ou.free_port())
    try:
        p = srv.ctl("cert", "add", "one.test", "extra.two.test", check=False)
        assert p.returncode == 1 and "not a host name under one.test" in p.err
        srv.ctl("cert", "add", "one.test", "extra.one.test")
        p = srv.ctl("cert", "add", "two.test", "extra.one.test", check=False)
        assert p.returncode == 1
        listed = [c["name"] for c in json.loads(srv.ctl("cert", "list", "one.test", "--json").out)]
        assert "extra.one.test" in listed
        p = srv.ctl("cert", "renew", "extra.one.test", "--json", check=False)
        (r,) = json.loads(p.out)
        # failed now, or already failed by the daemon's run and backing off
        assert r["outcome"] == "failed" or (r["outcome"] == "not-due" and "next try at" in r["detail"]), r
        # backing off: no new attempt until the next try
        p = srv.ctl("cert", "renew", "extra.one.test", "--json")
        (r,) = json.loads(p.out)
        assert r["outcome"] == "not-due" and "next try at" in r["detail"], r
    finally:
        srv.ctl("config", "set", "acme.directory", peb.directory)
    p = srv.ctl("cert", "renew", "extra.one.test", "--force", "--json")
    assert json.loads(p.out)[0]["outcome"] == "issued", p.out
    wait_for("extra.one.test served", lambda: served_or_none(srv, "imaps", "extra.one.test", root))
    shown = json.loads(srv.ctl("cert", "show", "extra.one.test", "--json").out)
    assert shown["failures"] == 0 and shown["last_error"] == ""
    srv.ctl("cert", "remove", "extra.one.test")
    listed = [c["name"] for c in json.loads(srv.ctl("cert", "list", "one.test", "--json").out)]
    assert "extra.one.test" not in listed
    # its certificate and key went with it
    assert not os.path.exists(os.path.join(srv.data, "tls", "extra.one.test.crt"))
    assert not os.path.exists(os.path.join(srv.data, "tls", "extra.one.test.key"))


def own_cert(base, name, days=30, key_for=None):
    """An administrator's own CA and certificate for name: (ca, chain, key)."""
    os.makedirs(base, exist_ok=True)
    run = lambda *a: subprocess.run(["openssl"] + list(a), check=True, capture_output=True)
    ca_key, ca = base + "/ca.key", base + "/ca.pem"
    key, csr, crt, ext = base + "/k.pem", base + "/r.csr", base + "/c.pem", base + "/ext"
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "30", "-subj", "/CN=Own CA " + name)
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", str(days), "-extfile", ext)
    with open(crt) as a, open(ca) as b, open(base + "/chain.pem", "w") as out:
        out.write(a.read() + b.read())
    return ca, base + "/chain.pem", key


def expired_cert(tmp_path, name):
    """A self-signed certificate for name that ended yesterday."""
    import datetime
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    crt, kp = str(tmp_path / "old.crt"), str(tmp_path / "old.key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(kp, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt, kp


def test_import_replaces_and_is_checked(env, tmp_path):
    srv, peb, root, _ = env
    wait_for("autoconfig.one.test", lambda: issued_by_daemon(srv, "autoconfig.one.test"))
    ca, chain, key = own_cert(str(tmp_path / "own"), "autoconfig.one.test")
    _, other_chain, other_key = own_cert(str(tmp_path / "other"), "mail.two.test")
    # refused: the key of another certificate, a certificate for another name
    p = srv.ctl("cert", "import", "autoconfig.one.test", chain, other_key, check=False)
    assert p.returncode == 1 and "key does not belong" in p.err
    p = srv.ctl("cert", "import", "autoconfig.one.test", other_chain, other_key, check=False)
    assert p.returncode == 1 and "does not cover autoconfig.one.test" in p.err
    p = srv.ctl("cert", "import", "mail.nowhere.test", chain, key, check=False)
    assert p.returncode == 1 and "not a host name of a domain hosted here" in p.err
    # a chain whose second certificate did not sign the first
    broken = str(tmp_path / "broken.pem")
    with open(broken, "w") as f:
        f.write(open(chain).read().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
                + open(str(tmp_path / "other" / "ca.pem")).read())
    p = srv.ctl("cert", "import", "autoconfig.one.test", broken, key, check=False)
    assert p.returncode == 1 and "chain is broken" in p.err, p.err
    # an expired certificate
    old_crt, old_key = expired_cert(tmp_path, "autoconfig.one.test")
    p = srv.ctl("cert", "import", "autoconfig.one.test", old_crt, old_key, check=False)
    assert p.returncode == 1 and "has expired" in p.err, p.err
    # a certificate file with the key pasted in too: only the chain is kept
    both = str(tmp_path / "both.pem")
    with open(both, "w") as f:
        f.write(open(chain).read() + open(key).read())
    srv.ctl("cert", "import", "autoconfig.one.test", both, key)
    with open(os.path.join(srv.data, "tls", "autoconfig.one.test.crt")) as f:
        stored = f.read()
    assert "PRIVATE KEY" not in stored and stored.count("BEGIN CERTIFICATE") == 2
    cert = wait_for("the imported certificate", lambda: served_or_none(srv, "imaps", "autoconfig.one.test", ca))
    assert "Own CA" in cert.issuer.rfc4514_string()
    assert "autoconfig.one.test" in cert.subject.rfc4514_string()
    st = os.stat(os.path.join(srv.data, "tls", "autoconfig.one.test.key"))
    assert st.st_mode & 0o777 == 0o600
    shown = json.loads(srv.ctl("cert", "show", "autoconfig.one.test", "--json").out)
    assert shown["source"] == "imported"
    # the ACME client leaves it alone unless forced
    p = srv.ctl("cert", "renew", "autoconfig.one.test", "--json")
    assert json.loads(p.out)[0]["outcome"] == "imported"


def test_sni_name_without_certificate_is_recorded_once(env):
    srv, peb, root, _ = env
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for _ in range(3):
        with socket.create_connection((HOST, srv.port("imaps")), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="nobody.one.test") as t:
                assert t.getpeercert(binary_form=True)
    ev = wait_for("the event", lambda: [e for e in events(srv, "tls-sni-unknown")
                                        if e["detail"] == "nobody.one.test imaps"])
    assert ev[0]["ip"] == "127.0.0.1"
    # the second and third connections were within the hour: one event
    with socket.create_connection((HOST, srv.port("smtps")), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="other.two.test"):
            pass
    wait_for("the second name's event", lambda: [e for e in events(srv, "tls-sni-unknown")
                                                 if e["detail"] == "other.two.test smtps"])
    # the web server's port too, its client address read from the socket
    with socket.create_connection((HOST, srv.port("https")), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="web.two.test"):
            pass
    ev = wait_for("the HTTPS port's event", lambda: [e for e in events(srv, "tls-sni-unknown")
                                                     if e["detail"] == "web.two.test https"])
    assert ev[0]["ip"] == "127.0.0.1"
    assert len([e for e in events(srv, "tls-sni-unknown") if e["detail"] == "nobody.one.test imaps"]) == 1


def test_http01_path_refuses_bad_tokens(env):
    srv, peb, root, _ = env
    for path, want in (("/.well-known/acme-challenge/../../yubin.conf", b"404"),
                       ("/.well-known/acme-challenge/no-such-token", b"404"),
                       ("/.well-known/acme-challenge/a%2Fb", b"404")):
        with socket.create_connection((HOST, srv.port("http")), timeout=10) as s:
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: mail.one.test\r\nConnection: close\r\n\r\n")
            reply = s.recv(4096)
        assert reply.split(b" ")[1] == want, (path, reply)


def test_api_renew_import_and_scope(env, tmp_path):
    from api_util import ADMIN, ADMIN_PW, Client, admin
    srv, peb, root, _ = env
    srv.ctl("admin", "add", ADMIN, "--role", "server", "--password-stdin", input=ADMIN_PW + "\n")
    srv.ctl("admin", "add", "onlytwo", "--role", "domain", "--domain", "two.test", "--password-stdin",
            input=ADMIN_PW + "\n")
    s = admin(srv)
    d = Client(srv)
    d.login("admin", "onlytwo", ADMIN_PW)
    wait_for("mta-sts.one.test", lambda: issued_by_daemon(srv, "mta-sts.one.test"))
    r = s.get("/api/v1/certs?domain=one.test")
    assert r.status == 200, r
    names = {c["name"]: c for c in r.json["certs"]}
    assert names["mta-sts.one.test"]["source"] == "acme" and names["mta-sts.one.test"]["present"]
    # a domain administrator sees and renews only its own domain's names
    r = d.get("/api/v1/certs")
    assert r.status == 200 and {c["domain"] for c in r.json["certs"]} == {"two.test"}, r
    assert d.post("/api/v1/certs/mail.one.test/renew", {"force": True}).status == 403
    # a forced renewal through the API runs on the daemon's thread
    before = served(srv, "imaps", "mta-sts.one.test", root).serial_number
    r = s.post("/api/v1/certs/mta-sts.one.test/renew", {"force": True})
    assert r.status == 202 and r.json["state"] == "queued", r
    wait_for("the API's renewal", lambda: served(srv, "imaps", "mta-sts.one.test", root).serial_number != before)
    # an import through the API
    ca, chain, key = own_cert(str(tmp_path / "own"), "mta-sts.two.test")
    r = d.request("PUT", "/api/v1/certs/mta-sts.two.test",
                  body={"certificate": open(chain).read(), "key": open(key).read()})
    assert r.status == 200 and r.json["source"] == "imported", r
    wait_for("the API's import", lambda: served_or_none(srv, "smtps", "mta-sts.two.test", ca))
    r = d.request("PUT", "/api/v1/certs/mta-sts.two.test",
                  body={"certificate": open(chain).read(), "key": open(key).read().replace("A", "B", 1)})
    assert r.status == 400 and r.json["error"]["field"] == "key", r


def test_reloads_while_handshakes_run(env):
    """The table of certificates is swapped while handshakes on every name
    run (SIGHUP each time): every handshake completes with a certificate
    for its name, and the daemon stays up (the sanitizer build checks the
    old table's contexts are not used after they were freed)."""
    import signal
    import threading
    srv, peb, root, _ = env
    for name in ("mail.one.test", "mail.two.test"):
        wait_for(name, lambda: issued_by_daemon(srv, name))
    errors, done = [], threading.Event()

    def handshakes(name, service):
        try:
            for _ in range(60):
                cert = served(srv, service, name, root)
                sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                assert sans.get_values_for_type(x509.DNSName) == [name]
        except Exception as e:   # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=handshakes, args=a)
               for a in (("mail.one.test", "imaps"), ("mail.two.test", "smtps"), ("mail.two.test", "https"))]
    for t in threads:
        t.start()
    n = 0
    while any(t.is_alive() for t in threads):
        os.kill(srv.proc.pid, signal.SIGHUP)
        n += 1
        time.sleep(0.02)
    for t in threads:
        t.join()
    done.set()
    assert errors == [], errors
    assert n > 1 and srv.proc.poll() is None


def test_deleted_domain_leaves_no_names_certificates_or_keys(env, tmp_path):
    """A domain deleted takes its added host names, its certificates (files
    and renewal state) and its DKIM keys (files and directory rows) with
    it: nothing renews a certificate for it, and added again it starts
    afresh."""
    import sqlite3
    srv, _, _, _ = env
    srv.ctl("domain", "add", "four.test")
    srv.ctl("cert", "add", "four.test", "extra.four.test")
    ca, chain, key = own_cert(str(tmp_path / "own"), "mail.four.test")
    srv.ctl("cert", "import", "mail.four.test", chain, key)
    assert json.loads(srv.ctl("cert", "show", "mail.four.test", "--json").out)["source"] == "imported"
    tls = os.path.join(srv.data, "tls")
    assert os.path.exists(os.path.join(tls, "mail.four.test.crt"))
    srv.ctl("domain", "del", "four.test", "--force")
    assert not os.path.exists(os.path.join(tls, "mail.four.test.crt"))
    assert not os.path.exists(os.path.join(tls, "mail.four.test.key"))
    assert not os.path.exists(os.path.join(srv.data, "dkim", "four.test"))
    db = sqlite3.connect(os.path.join(srv.data, "yubin.db"))
    try:
        for table, col in (("dkim_keys", "domain"), ("host_names", "domain")):
            n = db.execute("SELECT count(*) FROM %s WHERE %s = 'four.test'" % (table, col)).fetchone()[0]
            assert n == 0, table
        n = db.execute("SELECT count(*) FROM cert_state WHERE name LIKE '%.four.test'").fetchone()[0]
        assert n == 0
    finally:
        db.close()
    srv.ctl("domain", "add", "four.test")
    listed = {c["name"]: c for c in json.loads(srv.ctl("cert", "list", "four.test", "--json").out)}
    assert "extra.four.test" not in listed and listed["mail.four.test"]["source"] != "imported", listed
    srv.ctl("domain", "del", "four.test", "--force")
