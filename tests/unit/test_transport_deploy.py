"""No plaintext Kafka in the shipped deployments: docker-compose.yml and deploy/k8s run
every Kafka listener and every service's client over TLS, and the services' settings
there pass the production checks (DPS_ENV=production refuses plaintext)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.payload_codec import parse_keys
from shared.settings import PLAINTEXT_PROTOCOLS, TransportSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SECURE = {"SSL", "SASL_SSL"}
DEFAULTED = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def resolved(value: object) -> str:
    """A compose value with ${VAR:-default} read as its default (nothing set in the shell)."""
    return DEFAULTED.sub(lambda m: m.group(1), str(value))


def transport(env: dict[str, str]) -> TransportSettings:
    """The transport block a container would read, judged as production."""
    fields = TransportSettings.model_fields
    values = {
        name.removeprefix("DPS_").lower(): value
        for name, value in env.items()
        if name.removeprefix("DPS_").lower() in fields
    }
    values["env"] = "production"
    return TransportSettings.model_validate(values)


# The console reaches no Kafka, Temporal or database (only the services' HTTP APIs), so
# it holds none of their transport material (tests/unit/test_console_deploy.py).
NOT_ON_KAFKA = {"kafka-certs", "console"}


def dps_containers() -> dict[str, dict[str, Any]]:
    return {
        name: spec
        for name, spec in compose()["services"].items()
        if spec.get("image") == "send-dps:local" and name not in NOT_ON_KAFKA
    }


def test_compose_kafka_has_no_plaintext_listener() -> None:
    env = {k: resolved(v) for k, v in compose()["services"]["kafka"]["environment"].items()}
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    listeners = [item.split("://")[0] for item in env["KAFKA_LISTENERS"].split(",")]
    advertised = [item.split("://")[0] for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")]
    assert set(listeners) | set(advertised) <= set(protocols)
    assert {protocols[name] for name in listeners} <= SECURE, protocols
    assert env["KAFKA_SSL_CLIENT_AUTH"] == "required"
    # The image's start script wants JKS files when it sees "SSL://" in the advertised list.
    assert "SSL://" not in env["KAFKA_ADVERTISED_LISTENERS"]


@pytest.mark.parametrize("name", sorted(dps_containers()))
def test_compose_services_reach_kafka_over_tls_only(name: str) -> None:
    spec = dps_containers()[name]
    env = {k: resolved(v) for k, v in spec["environment"].items()}
    assert env["DPS_KAFKA_SECURITY_PROTOCOL"] in SECURE
    settings = transport(env)  # raises if production would refuse it
    assert settings.kafka_security_protocol not in PLAINTEXT_PROTOCOLS
    assert parse_keys(settings.temporal_payload_keys.get_secret_value())
    mounts = {m.split(":")[1] for m in spec["volumes"]}
    assert "/certs" in mounts


def k8s_documents() -> list[dict[str, Any]]:
    return [
        doc
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def pod_containers() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for doc in k8s_documents():
        if doc["kind"] in {"Deployment", "Job"} and doc["metadata"]["name"] not in NOT_ON_KAFKA:
            pod = doc["spec"]["template"]["spec"]
            for container in [*pod.get("initContainers", []), *pod["containers"]]:
                found.append((f"{doc['metadata']['name']}/{container['name']}", container))
    return found


def test_k8s_services_reach_kafka_over_sasl_ssl_in_production() -> None:
    docs = k8s_documents()
    config = next(
        d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "dps-config"
    )
    secrets = {d["metadata"]["name"]: d["stringData"] for d in docs if d["kind"] == "Secret"}
    assert config["data"]["DPS_ENV"] == "production"
    containers = pod_containers()
    assert len(containers) >= 4 * 5
    for where, container in containers:
        assert container["envFrom"] == [{"configMapRef": {"name": "dps-config"}}], where
        env = dict(config["data"])
        for item in container["env"]:
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                ref = item["valueFrom"]["secretKeyRef"]
                assert ref["key"] in secrets[ref["name"]], f"{where}: {ref} is not in secrets.yaml"
                # Placeholders stand in for what the secret manager provides.
                env[item["name"]] = "CHANGE-ME"
        env["DPS_TEMPORAL_PAYLOAD_KEYS"] = "k=" + "A" * 43 + "="
        settings = transport(env)
        assert settings.kafka_security_protocol == "SASL_SSL", where
        assert settings.temporal_tls and settings.database_sslmode == "verify-full", where
        mounted = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/etc/dps/ca" in mounted, where
    assert {"kafka-ca.crt", "temporal-ca.crt", "postgres-ca.crt"} <= set(
        secrets["dps-transport-ca"]
    )
