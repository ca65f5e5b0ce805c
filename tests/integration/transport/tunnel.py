"""Debian's stunnel4 as a TLS-terminating proxy asking for client certificates (mTLS),
in front of a plaintext local server (Tansu, the Temporal dev server)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dps import processes
from dps.devcerts import Pki

STUNNEL = shutil.which("stunnel4") or shutil.which("stunnel")
needs_stunnel = pytest.mark.skipif(
    STUNNEL is None, reason="stunnel4 is not installed (apt-get install stunnel4; .ci/run does)"
)


def stunnel(accept: int, connect: int, pki: Pki, folder: Path) -> processes.Managed:
    assert STUNNEL is not None
    config = folder / f"stunnel-{accept}.conf"
    config.write_text(
        "foreground = yes\npid =\n[tls]\n"
        f"accept = 127.0.0.1:{accept}\nconnect = 127.0.0.1:{connect}\n"
        f"cert = {pki.server_cert}\nkey = {pki.server_key}\n"
        f"CAfile = {pki.ca}\nverify = 2\nsslVersionMin = TLSv1.2\n"
    )
    proxy = processes.Managed("stunnel", [STUNNEL, str(config)], folder / f"stunnel-{accept}.log")
    proxy.start()
    processes.wait_for_port(proxy, accept, timeout=20)
    return proxy
