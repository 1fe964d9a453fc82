"""Shared by test_spam.py and test_spam_cli.py: the words and Japanese
samples their small generated training corpora are made of, a Japanese
message in a given charset, and writing a sample file."""

import base64
import os

SPAM_WORDS = ("cheap viagra pills discount offer winner prize cash casino lottery click "
              "unsubscribe guaranteed free bonus credit loan mortgage investment earn").split()
HAM_WORDS = ("meeting patch review kernel build release schedule draft report agenda "
             "compiler thread bug fix merge branch test lunch tomorrow thanks").split()
COMMON = "the a and to of you your we for this that with is are".split()

JA_SPAM = ("今すぐ無料で高収入！副業で月収１００万円",
           "お客様各位\n今だけ限定のご案内です。誰でも簡単に稼げる副業をご紹介します。\n"
           "登録は無料、今すぐクリックしてください。\n配信停止はこちら\n")
JA_HAM = ("来週の打ち合わせについて",
          "田中さん\nお疲れさまです。来週火曜日の打ち合わせですが、会議室が取れましたので"
          "十四時からでお願いします。資料は前日までに共有します。\nよろしくお願いいたします。\n")


def ja_message(charset, subject, body, b64=True, sender="sender@example.jp"):
    """A message in charset from a Japanese name at sender: the subject as
    an RFC 2047 encoded word, the body in base64 or as 8bit."""
    enc = lambda s: s.encode(charset)
    head = ("From: =?%s?B?%s?= <%s>\r\nSubject: =?%s?B?%s?=\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=%s\r\n"
            "Content-Transfer-Encoding: %s\r\n\r\n"
            % (charset, base64.b64encode(enc("山田 太郎")).decode(), sender, charset,
               base64.b64encode(enc(subject)).decode(), charset, "base64" if b64 else "8bit"))
    raw = enc(body)
    return head.encode() + (base64.encodebytes(raw) if b64 else raw)


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path
