"""Scale-out (issue 16): an account or a domain deleted on a proxy leaves
its mailbox on its home node no longer: the deletion asks that node
(mailbox_deletions, migration 15) and the node removes the mailbox on its
next pass, records an event and drops the request. Only what was asked
goes; an address living on the node again keeps its mailbox. A lean
cluster of its own: a private PostgreSQL, two mail nodes (127.0.0.11-12)
and one proxy (127.0.0.14), built from test_scaleout's parts."""

import os

import pytest

import helpers
from helpers import DOMAIN, PASSWORD
from pg_util import PgServer, available, wait_for
from test_scaleout import CLIENT, NODE1, NODE2, PROXY, SECRET, Host, IMAPFrom, imap_count_via, lmtp_deliver, tls, \
    use_directory

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL 15 is not installed (scripts/deps.sh test)")

ALICE = "alice@" + DOMAIN
OTHER = "other.test"
# a node's pass comes every 10 seconds; generous for a loaded machine
PASS_WAIT = 60


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("scaleout_delete")
    pg = PgServer()
    hosts = []
    try:
        pg.setup().start()
        url = pg.createdb("yubin")
        proxy = Host(base / "p1", PROXY, accounts=[], domains=(), name="p1",
                     config={"server.role": "proxy", "proxy.secret": SECRET,
                             "proxy.connect_timeout": 5}).setup()
        use_directory(proxy, url)
        proxy.ctl("domain", "add", DOMAIN)
        nodes = []
        for name, addr in (("n1", NODE1), ("n2", NODE2)):
            n = Host(base / name, addr, node=name, accounts=[], domains=(), name=name,
                     config={"node.name": name, "proxy.trusted": PROXY, "proxy.secret": SECRET}).setup()
            use_directory(n, url)
            nodes.append(n)
        hosts = nodes + [proxy]
        for srv in hosts:
            srv.start()
        for n in nodes:
            n.list_node(proxy, pg, "10G")
        add(proxy, ALICE, "n1")
        yield pg, proxy, nodes[0], nodes[1]
    finally:
        for srv in hosts:
            srv.stop()
        pg.cleanup()
    for srv in hosts:
        rep = srv.sanitizer_report()
        assert rep is None, rep


def add(proxy, address, node, check=True):
    return proxy.ctl("account", "add", address, "--password-stdin", "--node", node, input=PASSWORD + "\n",
                     check=check)


def deliver(node, address):
    """A message for address straight to its node (LMTP from the proxy):
    its token, once the node holds it."""
    tok = helpers.unique("del")
    _, finals = lmtp_deliver(node, [address], helpers.make_message(tok))
    assert finals and finals[0].startswith("250 "), finals
    assert node.find_token(address, tok)
    return tok


def pending(pg, address):
    return int(pg.psql("SELECT count(*) FROM mailbox_deletions WHERE address = '%s'" % address, "yubin"))


def event(pg, kind, address):
    return pg.psql("SELECT detail FROM events WHERE kind = '%s' AND address = '%s' ORDER BY id DESC LIMIT 1"
                   % (kind, address), "yubin")


def inbox_size(proxy, user):
    """The number of messages in user's INBOX, through proxy's IMAP."""
    m = IMAPFrom(proxy.addr, proxy.port("imap"), CLIENT)
    try:
        m.starttls(tls(proxy))
        m.login(user, PASSWORD)
        typ, data = m.select("INBOX")
        assert typ == "OK"
        return int(data[0])
    finally:
        m.logout()


def test_account_deleted_on_proxy_mailbox_deleted_on_its_node(cluster):
    pg, proxy, n1, n2 = cluster
    gone = helpers.unique("gone") + "@" + DOMAIN
    add(proxy, gone, "n2")
    old = deliver(n2, gone)
    # read once: n2 keeps the account's index open in its pool
    assert imap_count_via(proxy, gone, old) == 1
    # with the things kept inside the mailbox: sieve scripts, address book
    os.makedirs(os.path.join(n2.maildir(gone), "sieve"), exist_ok=True)
    with open(os.path.join(n2.maildir(gone), "sieve", "panel"), "w") as f:
        f.write("keep;\n")
    kept = deliver(n1, ALICE)
    out = proxy.ctl("account", "del", gone).out
    assert "its mailbox on node n2 is deleted by that node" in out, out
    assert wait_for(lambda: not os.path.exists(n2.maildir(gone)), PASS_WAIT), "n2 kept the mailbox"
    assert wait_for(lambda: event(pg, "mailbox-deleted", gone), PASS_WAIT) == \
        "the mailbox was deleted on node n2"
    assert wait_for(lambda: pending(pg, gone) == 0, PASS_WAIT)
    # nothing else went: the domain's directory and the other node's mail
    assert os.path.isdir(os.path.dirname(n2.maildir(gone)))
    assert n1.find_token(ALICE, kept)
    assert "its mailbox is deleted by its node n2" in event(pg, "account-deleted", gone)
    # the address added again on n2 starts afresh: nothing of the old
    # mailbox (no pooled index, no cached usage)
    add(proxy, gone, "n2")
    new = deliver(n2, gone)
    assert inbox_size(proxy, gone) == 1 and imap_count_via(proxy, gone, new) == 1


def test_domain_deleted_on_proxy_mailboxes_deleted_on_their_nodes(cluster):
    pg, proxy, n1, n2 = cluster
    proxy.ctl("domain", "add", OTHER)
    users = [("x@" + OTHER, n1), ("y@" + OTHER, n2), ("z@" + OTHER, n2)]
    for address, node in users:
        add(proxy, address, node.node)
        deliver(node, address)
    out = proxy.ctl("domain", "del", OTHER, "--force").out
    assert "with 3 accounts" in out and "the mailboxes of 3 of them are deleted by their nodes" in out, out
    for address, node in users:
        assert wait_for(lambda: not os.path.exists(node.maildir(address)), PASS_WAIT), address
        assert wait_for(lambda: event(pg, "mailbox-deleted", address), PASS_WAIT) == \
            "the mailbox was deleted on node " + node.node
        assert wait_for(lambda: pending(pg, address) == 0, PASS_WAIT)


def test_readded_address_keeps_its_mailbox_requests_survive_restart(cluster):
    """With n2 down the requests wait. An address added again on n2 before
    n2 acted is refused (the new account would find the old mail); added
    on n1 it is the new one's there, and n2 still deletes its old copy. An
    address living on n2 again by another way (here set in the directory
    directly, as a finished move would) keeps its mailbox."""
    pg, proxy, n1, n2 = cluster
    again, back = (helpers.unique(p) + "@" + DOMAIN for p in ("again", "back"))
    for address in (again, back):
        add(proxy, address, "n2")
    old_again, old_back = deliver(n2, again), deliver(n2, back)
    n2.stop()
    try:
        for address in (again, back):
            assert "deleted by that node" in proxy.ctl("account", "del", address).out
            assert pending(pg, address) == 1
        refused = add(proxy, again, "n2", check=False)
        assert refused.returncode != 0 and "still being removed" in refused.err, refused.err
        add(proxy, again, "n1")
        new_again = deliver(n1, again)
        add(proxy, back, "n1")
        pg.psql("UPDATE accounts SET node = 'n2' WHERE address = '%s'" % back, "yubin")
    finally:
        n2.start()
    assert wait_for(lambda: pending(pg, again) == 0 and pending(pg, back) == 0, PASS_WAIT)
    # again: the old copy on n2 gone, the new account's mail on n1 kept
    assert not os.path.exists(n2.maildir(again))
    assert n1.find_token(again, new_again) and not n1.find_token(again, old_again)
    assert event(pg, "mailbox-deleted", again) == "the mailbox was deleted on node n2"
    # back: lives on n2 again, its mailbox stays
    assert n2.find_token(back, old_back)
    assert "added again on this node" in event(pg, "mailbox-kept", back)
