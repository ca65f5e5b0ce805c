"""A TLS-terminating proxy that negotiates ALPN, for gRPC (Temporal, "h2") and direct
PostgreSQL TLS ("postgresql") in tests.

stunnel cannot negotiate ALPN: the Temporal SDK's gRPC client (tonic) refuses a TLS
connection without "h2" ("H2NotNegotiated"), and libpq's `sslnegotiation=direct` wants
"postgresql". This is the same job in Python's ssl module (OpenSSL): TLS 1.2+, client
certificates required, bytes copied both ways.

    python -m tests.integration.transport.tls_proxy ACCEPT CONNECT CERT KEY CA [ALPN]
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, ssl.SSLError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


async def serve(accept: int, connect: int, context: ssl.SSLContext) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", connect)
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    server = await asyncio.start_server(handle, "127.0.0.1", accept, ssl=context)
    async with server:
        await server.serve_forever()


def main(accept: str, connect: str, cert: str, key: str, ca: str, alpn: str = "h2") -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=ca)
    context.load_cert_chain(cert, key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_alpn_protocols([alpn])
    asyncio.run(serve(int(accept), int(connect), context))


if __name__ == "__main__":
    main(*sys.argv[1:])
