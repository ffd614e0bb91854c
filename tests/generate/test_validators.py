"""The generated files pass the tools that will load them: nft, iptables-restore, sshd, the Kubernetes
OpenAPI schemas, the CRD schemas, and wg-quick."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ringwall.generate.cli import generate, write

from .helpers import INTENTS

EXAMPLE_INTENTS = sorted(p.stem for p in INTENTS.glob("*.yaml"))
root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


@pytest.fixture(scope="module", params=EXAMPLE_INTENTS)
def out(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    files, _ = generate(INTENTS / f"{request.param}.yaml")
    d = tmp_path_factory.mktemp(request.param)
    write(files, d)
    return d


def _run(*cmd: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=False)


@root
@pytest.mark.skipif(shutil.which("nft") is None, reason="nft not installed")
def test_nft_accepts(out: Path) -> None:
    files = sorted((out / "hosts").glob("*.nft"))
    assert files
    for f in files:
        res = _run("nft", "-c", "-f", str(f))
        assert res.returncode == 0, f"{f.name}: {res.stderr}"


@root
@pytest.mark.skipif(shutil.which("iptables-restore") is None, reason="iptables not installed")
def test_iptables_restore_accepts(out: Path) -> None:
    for family, tool in (("v4", "iptables-restore"), ("v6", "ip6tables-restore")):
        files = sorted((out / "hosts").glob(f"*.rules.{family}"))
        assert files
        for f in files:
            res = _run(tool, "--test", stdin=f.read_text())
            assert res.returncode == 0, f"{f.name}: {res.stderr}"


@pytest.mark.skipif(not Path("/usr/sbin/sshd").exists(), reason="openssh-server not installed")
def test_sshd_accepts(out: Path, tmp_path: Path) -> None:
    key = tmp_path / "host_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory sshd -t insists on
    res = _run("/usr/sbin/sshd", "-t", "-f", str(out / "access" / "sshd_config"), "-h", str(key))
    assert res.returncode == 0, res.stderr
    text = (out / "access" / "sshd_config").read_text()
    for line in ("PasswordAuthentication no", "AuthorizedKeysFile none", "LogLevel VERBOSE", "PermitRootLogin no"):
        assert line in text.splitlines()


def _k8s_docs(out: Path) -> list[dict[str, object]]:
    docs = []
    for f in sorted((out / "kubernetes").rglob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


def test_kubernetes_objects_match_openapi(out: Path) -> None:
    kv = pytest.importorskip("kubernetes_validate")
    version = kv.latest_version()
    checked = 0
    for doc in _k8s_docs(out):
        if doc["apiVersion"] != "networking.k8s.io/v1":
            continue
        kv.validate(doc, version, strict=True)
        checked += 1
    assert checked


def _crd_schema(shared: Path, group: str, plural: str, version: str) -> dict[str, object]:
    crd = yaml.safe_load((shared / "schemas" / "crds" / group / f"{plural}.yaml").read_text())
    (ver,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    return ver["schema"]["openAPIV3Schema"]  # type: ignore[no-any-return]


def test_custom_resources_match_crds(out: Path, shared_dir: Path) -> None:
    import jsonschema

    plurals = {"BaselineAdminNetworkPolicy": "baselineadminnetworkpolicies",
               "AdminNetworkPolicy": "adminnetworkpolicies"}
    for doc in _k8s_docs(out):
        if doc["kind"] not in plurals:
            continue
        group, version = str(doc["apiVersion"]).split("/")
        schema = _crd_schema(shared_dir, group, plurals[str(doc["kind"])], version)
        jsonschema.validate(doc, schema)


KEY = re.compile(r"<[a-z0-9-]+-(private|public)-key>")


def _with_keys(text: str) -> str:
    """Placeholders replaced by real keys, as an operator would (wg genkey / wg pubkey)."""
    def key(_: re.Match[str]) -> str:
        return _run("wg", "genkey").stdout.strip()
    return KEY.sub(key, text)


def test_wireguard_configs(out: Path, tmp_path: Path) -> None:
    confs = sorted((out / "access" / "wireguard").rglob("*.conf"))
    assert confs
    for conf in confs:
        text = conf.read_text()
        sections = [line for line in text.splitlines() if line.startswith("[")]
        assert sections[0] == "[Interface]" and all(s in ("[Interface]", "[Peer]") for s in sections)
        assert "0.0.0.0/0" not in text and "::/0" not in text  # least broad AllowedIPs
        if shutil.which("wg-quick") is None or shutil.which("wg") is None:
            continue
        # wg-quick strip parses the wg-quick fields and leaves what ``wg setconf`` reads; wg-quick names the
        # interface after the file, so it gets a short valid name.
        keyed = tmp_path / "wgt0.conf"
        keyed.write_text(_with_keys(text))
        keyed.chmod(0o600)
        res = _run("wg-quick", "strip", str(keyed))
        assert res.returncode == 0, f"{conf.name}: {res.stderr}"
        assert "Address" not in res.stdout and "PrivateKey" in res.stdout
