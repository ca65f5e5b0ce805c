"""The embedded stack's mail server: a real SMTP server (aiosmtpd) on 127.0.0.1 that
keeps every message it receives as a file under the data folder (mail/*.eml, the
owner's only), so a person trying the stack reads what the services sent with
`dps mail` or any mail reader. It relays nothing: no e-mail leaves the machine.

Run by `dps up` as a supervised process: `python -m dps.mailserver --port P --dir D`.
aiosmtpd is imported only here and only when run (the container image has none).
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from shared.files import private_dir

MAIL_DIR = "mail"


def mail_dir(data_dir: Path) -> Path:
    return data_dir / MAIL_DIR


class Keeper:
    """aiosmtpd handler: write each accepted message to its own 0600 file."""

    def __init__(self, folder: Path) -> None:
        self.folder = private_dir(folder)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        data = envelope.original_content or envelope.content
        content = data if isinstance(data, bytes) else str(data).encode()
        # O_EXCL and 0600 from the start: a message is never readable by others, even
        # for the moment between creating and chmod.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
        return "250 Message accepted for delivery"


def serve(port: int, folder: Path, host: str = "127.0.0.1") -> None:
    """Serve until SIGTERM/SIGINT."""
    from aiosmtpd.controller import Controller

    controller = Controller(Keeper(folder), hostname=host, port=port)
    controller.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"mail server on {host}:{port}, keeping messages in {folder}", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


@dataclass(frozen=True)
class KeptMail:
    path: Path
    received: str
    to: str
    subject: str


def _header(value: str | None) -> str:
    return str(make_header(decode_header(value))) if value else ""


def kept(folder: Path) -> list[KeptMail]:
    """What the mail server kept, oldest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes())
        found.append(
            KeptMail(
                path=path,
                received=path.name[:15],
                to=_header(message["To"]),
                subject=_header(message["Subject"]),
            )
        )
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    serve(args.port, args.dir)


if __name__ == "__main__":
    main()
