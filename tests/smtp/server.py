"""A real SMTP server on loopback for the notify tests (aiosmtpd).

Usage: python3 server.py --dir FOLDER [--port N] [--delay-ms N]

Prints "LISTENING <port>" once it accepts connections. Every message it accepts
is recorded as FOLDER/<time>-<n>.json (decoded headers and bodies, and the
instant it was received) before the 250 reply is sent, so a recorded message is
one the server accepted. Recipients steer the answers:

  tempfail-<N>-anything@domain  the first N RCPT commands for that address get
                                "451 4.3.0 try again later"
  reject-anything@domain        "550 5.1.1 mailbox unavailable", until the file
                                FOLDER/accept-rejects exists (the "fix")
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import re
import sys
import time

from aiosmtpd.smtp import SMTP


class Recorder:
    def __init__(self, folder, delay):
        self.folder = folder
        self.delay = delay
        self.tempfails = {}
        self.counter = itertools.count()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        match = re.match(r"tempfail-(\d+)-", local)
        if match:
            seen = self.tempfails.get(address, 0)
            self.tempfails[address] = seen + 1
            if seen < int(match.group(1)):
                return "451 4.3.0 try again later"
        if local.startswith("reject-") and not os.path.exists(
            os.path.join(self.folder, "accept-rejects")
        ):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "received_at_ms": time.time_ns() // 1_000_000,
            "message_id": str(message.get("Message-ID", "")),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "subject": str(message.get("Subject", "")),
            "envelope_from": envelope.mail_from,
            "envelope_to": envelope.rcpt_tos,
            "text": text.get_content() if text is not None else "",
            "html": html.get_content() if html is not None else "",
        }
        name = "%d-%06d" % (time.time_ns(), next(self.counter))
        part = os.path.join(self.folder, "." + name + ".part")
        with open(part, "w", encoding="utf-8") as out:
            json.dump(record, out)
            out.flush()
            os.fsync(out.fileno())
        os.rename(part, os.path.join(self.folder, name + ".json"))
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 accepted"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Recorder(args.dir, args.delay_ms / 1000.0)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", ident="portal-test-smtp"),
        host="127.0.0.1",
        port=args.port,
        reuse_address=True,
    )
    port = server.sockets[0].getsockname()[1]
    print("LISTENING %d" % port, flush=True)
    # Stops by itself if the test that started it vanished without killing it.
    await asyncio.sleep(900)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
