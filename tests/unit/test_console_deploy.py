"""The console in the shipped deployments (docker-compose.yml, deploy/k8s/console.yaml):
replicas sharing one session key from a Secret, probes, resources, the same security
context as the services, a TLS Ingress; and production settings refusing a missing or
placeholder session key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from services.console.settings import ConsoleSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DEFAULTED = re.compile(r"\$\{[A-Z0-9_]+:-([^}]*)\}")
GOOD_KEY = "q3Jx0yV7pZrT2mWc8kLbN5hGdF1sA9eU4oIiY6tR"  # random-looking, 40 bytes


def k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def console_container() -> dict[str, Any]:
    [deployment] = of_kind(k8s("console.yaml"), "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_the_console_runs_two_replicas_or_more_with_probes_resources_and_no_root() -> None:
    docs = k8s("console.yaml")
    [deployment] = of_kind(docs, "Deployment")
    assert deployment["spec"]["replicas"] >= 2
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    container = console_container()
    assert container["command"] == ["python", "-m", "services.console"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert container["resources"]["requests"] and container["resources"]["limits"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    [hpa] = of_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 2
    [pdb] = of_kind(docs, "PodDisruptionBudget")
    assert pdb["spec"]["minAvailable"] == 1


def test_the_console_service_and_ingress_reach_its_pods_over_tls() -> None:
    docs = k8s("console.yaml")
    [deployment] = of_kind(docs, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    [service] = of_kind(docs, "Service")
    assert service["spec"]["selector"].items() <= pod_labels.items()
    [port] = service["spec"]["ports"]
    assert port["port"] == 8000 and port["targetPort"] == "http"
    [ingress] = of_kind(docs, "Ingress")
    [tls] = ingress["spec"]["tls"]
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"] and tls["secretName"]
    [path] = rule["http"]["paths"]
    assert path["backend"]["service"]["name"] == service["metadata"]["name"]
    redirect = next(e for e in console_container()["env"] if e["name"] == "DPS_OIDC_REDIRECT_URI")
    assert redirect["value"] == f"https://{rule['host']}/sign-in/callback"


def test_the_console_calls_each_service_by_its_k8s_service_and_may_reach_it() -> None:
    services = {
        d["metadata"]["name"]: d["spec"]["ports"][0]["port"]
        for path in K8S.glob("*.yaml")
        if path.name != "kustomization.yaml"
        for d in k8s(path.name)
        if d["kind"] == "Service"
    }
    env = {e["name"]: e.get("value") for e in console_container()["env"]}
    urls = [v for k, v in env.items() if k.endswith("_URL") and k != "DPS_OIDC_REDIRECT_URI"]
    assert len(urls) == 4
    for url in urls:
        host, port = url.removeprefix("http://").split(":")
        assert services[host] == int(port), url
    [egress] = [
        d for d in k8s("network-policies.yaml") if d["metadata"]["name"] == "console-egress"
    ]
    allowed = {p["port"] for rule in egress["spec"]["egress"] for p in rule["ports"]}
    assert {int(u.rsplit(":", 1)[1]) for u in urls} <= allowed
    assert "console.yaml" in yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]


def production_env(secret_values: dict[str, str] | None = None) -> dict[str, str]:
    """What a console pod reads: the ConfigMap, its own env, its Secrets' values."""
    [config] = of_kind(k8s("config.yaml"), "ConfigMap")
    secrets = {
        d["metadata"]["name"]: d["stringData"] for d in of_kind(k8s("secrets.yaml"), "Secret")
    }
    env = dict(config["data"])
    for item in console_container()["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secrets[ref["name"]], f"{ref} is not in secrets.yaml"
            env[item["name"]] = (secret_values or {}).get(
                ref["key"], secrets[ref["name"]][ref["key"]]
            )
    return env


def settings_from(env: dict[str, str]) -> ConsoleSettings:
    fields = ConsoleSettings.model_fields
    values = {
        k.removeprefix("DPS_").lower(): v
        for k, v in env.items()
        if k.removeprefix("DPS_").lower() in fields
    }
    return ConsoleSettings.model_validate(values)


def test_the_console_pods_settings_start_in_production_with_real_secrets() -> None:
    env = production_env(
        {
            "DPS_SESSION_SECRET": GOOD_KEY,
            "DPS_OIDC_CLIENT_ID": "6b0c9c1e-console",
            "DPS_OIDC_CLIENT_SECRET": "Zq8~xT2.pLm4Nw7Rv9-Hs3Kd5Fg1Jb6",
        }
    )
    settings = settings_from(env)
    assert settings.production and settings.cookie_secret() == GOOD_KEY
    # No Kafka or Temporal credentials are given to the console, and none are needed.
    assert "DPS_KAFKA_SASL_PASSWORD" not in env and "DPS_TEMPORAL_PAYLOAD_KEYS" not in env
    assert settings.identity_problems() == []


def test_the_shipped_placeholders_keep_the_console_from_starting() -> None:
    with pytest.raises(ValidationError, match="DPS_SESSION_SECRET"):
        settings_from(production_env())


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "must be set"),
        ("CHANGE-ME", "shorter than"),
        ("compose-dev-session-key-not-for-production", "placeholder"),
        ("a" * 48, "too few distinct"),
    ],
)
def test_production_refuses_a_missing_or_weak_session_key(
    tmp_path: Path, key: str, why: str
) -> None:
    with pytest.raises(ValidationError, match=why):
        ConsoleSettings(env="production", session_secret=key, data_dir=tmp_path)
    # Nothing was generated in the pod's data folder instead.
    assert not (tmp_path / "console-session-secret").exists()


def test_production_takes_a_strong_key_and_development_generates_one(tmp_path: Path) -> None:
    assert ConsoleSettings(env="production", session_secret=GOOD_KEY).cookie_secret() == GOOD_KEY
    with pytest.raises(ValidationError, match="DPS_OIDC_CLIENT_SECRET"):
        ConsoleSettings(env="production", session_secret=GOOD_KEY, oidc_client_secret="CHANGE-ME")
    generated = ConsoleSettings(data_dir=tmp_path).cookie_secret()
    assert len(generated) >= 32 and ConsoleSettings(data_dir=tmp_path).cookie_secret() == generated


def resolved(value: object) -> str:
    return DEFAULTED.sub(lambda m: m.group(1), str(value))


def test_compose_runs_the_console_against_the_api_containers() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    console = compose["console"]
    assert console["entrypoint"] == ["python", "-m", "services.console"]
    env = {k: resolved(v) for k, v in console["environment"].items()}
    assert env["DPS_CONSOLE_PORT"] == env["DPS_HTTP_PORT"] == "8000"  # HEALTHCHECK's port
    assert "8000:8000" in console["ports"]
    for name in ("provider-registry", "procurement", "placements", "monitoring"):
        port = compose[name]["environment"]["DPS_HTTP_PORT"]
        key = f"DPS_{name.replace('-', '_').upper()}_URL"
        assert env[key] == f"http://{name}:{port}", key
        assert name in console["depends_on"]
    # The development sign-in mints tokens the services accept: the same key.
    services_key = resolved(compose["placements"]["environment"]["DPS_JWT_SECRET"])
    assert env["DPS_JWT_SECRET"] == services_key
    assert env["DPS_SESSION_SECRET"]  # one key, shared by any replicas
    prometheus = (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()
    assert "names: [console]" in prometheus
