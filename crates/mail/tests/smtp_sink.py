#!/usr/bin/env python3
"""A real SMTP server for the newsdesk-mail integration tests.

Usage: smtp_sink.py PORT DIR [--seconds N] [--auth USER:PASSWORD] [--close-after K]

Listens on 127.0.0.1:PORT (plain SMTP, no TLS) and writes every message it accepts, as the raw
bytes received after DATA, to DIR/NNNN.PEERPORT.eml (written to a temporary name, then renamed;
PEERPORT is the client's port, so the files tell which connection carried each message). With
--close-after K the server closes a connection after the K-th message it accepted on it (as
relays limiting messages per connection do). Recipients
whose local part starts with "reject" are refused with 550. With --auth, the client must
authenticate (PLAIN or LOGIN, allowed without TLS) with those credentials before MAIL FROM.
Exits after N seconds (default 60) or on SIGTERM/SIGINT.

Needs the aiosmtpd package: pip install aiosmtpd==1.4.6
"""

import argparse
import itertools
import logging
import os
import signal
import sys
import threading
import warnings

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    sys.stderr.write(
        "smtp_sink.py: the Python package aiosmtpd is not installed; "
        "run `pip install aiosmtpd==1.4.6`\n"
    )
    sys.exit(3)


class Sink:
    def __init__(self, folder, close_after=0):
        self.folder = folder
        self.close_after = close_after
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@", 1)[0].lower().startswith("reject"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        name = "%04d.%d.eml" % (n, session.peer[1])
        tmp = os.path.join(self.folder, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.replace(tmp, os.path.join(self.folder, name))
        if self.close_after:
            done = getattr(session, "sink_messages", 0) + 1
            session.sink_messages = done
            if done >= self.close_after:
                # After the 250 below is written: close() sends what is buffered first.
                session.loop.call_soon(server.transport.close)
        return "250 Message accepted for delivery"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False)

    return authenticate


def main():
    # aiosmtpd warns (rightly) about AUTH without TLS; this server only ever listens on loopback.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description="SMTP sink for tests")
    parser.add_argument("port", type=int)
    parser.add_argument("dir")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--auth", default=None, help="USER:PASSWORD required from clients")
    parser.add_argument("--close-after", type=int, default=0, help="messages per connection")
    args = parser.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    kwargs = {}
    if args.auth is not None:
        user, _, password = args.auth.partition(":")
        kwargs.update(
            authenticator=authenticator_for(user, password),
            auth_required=True,
            auth_require_tls=False,
        )
    controller = Controller(
        Sink(args.dir, args.close_after), hostname="127.0.0.1", port=args.port, ready_timeout=10.0, **kwargs
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    controller.start()
    print("ready", flush=True)
    try:
        stop.wait(args.seconds)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
