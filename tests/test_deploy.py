"""The deployment artefacts in deploy/ hold together: the systemd unit verifies, the Kubernetes manifests are valid
for the Kubernetes API and say what docs/deploy.md promises, and every handler option they use is one the handler
has."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from fixtures.commands import cc_executor

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "cc-executor-handler.service"
CONTAINERFILE = DEPLOY / "container" / "Containerfile"
MANIFESTS = DEPLOY / "kubernetes" / "handlers.yaml"


def handler_options(tmp_path: Path) -> set[str]:
    help_text = cc_executor(tmp_path, "handler", "--help", env={"COLUMNS": "300"}).stdout
    return set(re.findall(r"--[a-z][a-z-]+", help_text))


def options_in(words: list[str]) -> set[str]:
    return {word.split("=", 1)[0] for word in words if word.startswith("--")}


def manifests() -> dict[str, dict[str, Any]]:
    return {document["kind"]: document for document in yaml.safe_load_all(MANIFESTS.read_text())}


def test_the_systemd_unit_verifies_and_drains_on_stop(tmp_path: Path):
    text = UNIT.read_text()
    exec_start = " ".join(re.search(r"^ExecStart=(.*?)(?<!\\)$", text, re.M | re.S).group(1).split("\\\n"))
    assert options_in(exec_start.split()) <= handler_options(tmp_path)
    assert "KillMode=mixed" in text, "SIGTERM to the handler alone, which drains; not to every execution"
    grace = int(re.search(r"--drain-grace (\d+)", exec_start).group(1))
    assert int(re.search(r"^TimeoutStopSec=(\d+)", text, re.M).group(1)) > grace
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here; the unit was only checked as text")
    installed = ROOT / ".venv" / "bin" / "cc-executor"
    unit = tmp_path / UNIT.name
    unit.write_text(text.replace("/opt/cc-executor/.venv/bin/cc-executor", str(installed)))
    verified = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr


def test_the_kubernetes_manifests_are_a_headless_fleet_with_readiness_on_draining(tmp_path: Path):
    found = manifests()
    service, deployment = found["Service"], found["Deployment"]
    assert service["apiVersion"] == "v1" and deployment["apiVersion"] == "apps/v1"
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is False
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"] == labels and service["spec"]["selector"] == labels
    (container,) = pod["spec"]["containers"]
    args = container["args"]
    assert options_in(args) <= handler_options(tmp_path)
    assert "--host=0.0.0.0" in args and {"--tls-cert", "--tls-key"} <= options_in(args)
    port_names = {port["name"] for port in container["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {probe["httpGet"]["scheme"] for probe in (container["readinessProbe"], container["livenessProbe"])} == {
        "HTTPS"
    }
    token = next(env for env in container["env"] if env["name"] == "CC_EXECUTOR_TOKEN")
    assert token["valueFrom"]["secretKeyRef"]["name"] == "cc-executor-token"
    grace = int(next(arg for arg in args if arg.startswith("--drain-grace=")).split("=")[1])
    assert pod["spec"]["terminationGracePeriodSeconds"] > grace
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    allowed = next(arg for arg in args if arg.startswith("--allow-host=")).split("=")[1]
    assert allowed.startswith(service["metadata"]["name"] + "."), "the name bridges use is the Service's"


def test_the_kubernetes_manifests_are_valid_for_the_kubernetes_api():
    """Strictly, against the API's own schemas (bundled by kubernetes-validate, so offline): a misspelt or misplaced
    field is refused here rather than by a cluster."""
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for document in yaml.safe_load_all(MANIFESTS.read_text()):
        kubernetes_validate.validate(document, version, strict=True)  # raises, naming the field
    misspelt = manifests()["Service"]
    misspelt["spec"]["clusterIp"] = misspelt["spec"].pop("clusterIP")
    with pytest.raises(kubernetes_validate.ValidationError, match="clusterIp"):
        kubernetes_validate.validate(misspelt, version, strict=True)


def test_the_container_runs_the_handler_with_claude_beside_it(tmp_path: Path):
    text = CONTAINERFILE.read_text()
    assert text.startswith("#") and "FROM node:" in text and "@anthropic-ai/claude-code@" in text
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1)
    command = re.search(r"^CMD (\[.*\])$", text, re.M).group(1)
    assert yaml.safe_load(entrypoint)[1:] == ["handler"]
    assert options_in(yaml.safe_load(command)) <= handler_options(tmp_path)
    assert "USER 10001" in text and "STOPSIGNAL SIGTERM" in text
