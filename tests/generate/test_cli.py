"""``ringwall generate``: writing only inside -o DIR, --diff, targets, errors, workload resolution."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ringwall.analysis.intent import IntentError
from ringwall.generate.cli import _inside, generate, target_names

from .helpers import INTENTS, SHOP_WORKLOADS, cli_app, workloads_yaml

MINIMAL = str(INTENTS / "minimal.yaml")


def invoke(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli_app(), ["generate", *args])
    return res.exit_code, res.stdout, res.stderr


def test_without_output_prints_and_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke(MINIMAL)
    assert code == 0
    assert "==> hosts/worker.nft <==" in out and "kind: NetworkPolicy" in out
    assert list(tmp_path.iterdir()) == []


def test_write_then_diff(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "hosts").mkdir(parents=True)
    mine = out / "notes.txt"
    mine.write_text("the user's own file\n")
    code, stdout, _ = invoke(MINIMAL, "-o", str(out))
    assert code == 0 and "wrote" in stdout
    assert mine.read_text() == "the user's own file\n"  # left alone
    code, stdout, _ = invoke(MINIMAL, "-o", str(out), "--diff")
    assert (code, stdout) == (0, "")
    worker = out / "hosts" / "worker.nft"
    worker.write_text(worker.read_text().replace("tcp dport 22 accept", "tcp dport 2222 accept"))
    (out / "kubernetes" / "db.yaml").unlink()
    code, stdout, _ = invoke(MINIMAL, "-o", str(out), "--diff")
    assert code == 1
    assert "-\t\tip saddr 198.51.100.0/26 tcp dport 2222 accept" in stdout
    assert "+\t\tip saddr 198.51.100.0/26 tcp dport 22 accept" in stdout
    assert "--- /dev/null\n+++ b/kubernetes/db.yaml" in stdout
    assert "2222" in worker.read_text()  # --diff writes nothing


def test_diff_needs_output() -> None:
    code, _, err = invoke(MINIMAL, "--diff")
    assert code == 2 and "-o DIR" in err


def test_targets_select_and_order(tmp_path: Path) -> None:
    code, _, _ = invoke(MINIMAL, "-o", str(tmp_path), "--targets", "sshd,netpol")
    assert code == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "access/ringwall_users_ca.pub", "access/sshd_config", "kubernetes/db.yaml", "kubernetes/web.yaml"]
    assert target_names()[:8] == ["nftables", "iptables", "netpol", "istio", "linkerd", "sshd", "wireguard", "coredns"]


@pytest.mark.parametrize(("args", "message"), [
    (["--targets", "calico"], "unknown target"),
    ([], "not an intent file"),
])
def test_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Nope\n")
    code, _, err = invoke(MINIMAL if args else str(bad), *args)
    assert code == 2 and message in err


def _intent(tmp_path: Path, **extra: object) -> Path:
    doc = yaml.safe_load(Path(MINIMAL).read_text())
    doc.update(extra)
    path = tmp_path / "intent.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.parametrize(("section", "field"), [
    ({"hosts": {"nodeports": [{"flow": "public-web", "port": 80}]}}, "30000-32767"),
    ({"hosts": {"nodeports": [{"flow": "web-to-db", "port": 30001}]}}, "external zone"),
    ({"hosts": {"management": "web"}}, "hosts.management"),
    ({"cluster": {"pod_cidr": "10.244.0.1/16"}}, "cluster.pod_cidr"),
    ({"access": {"wireguard": {"network": "10.200.0.0/24", "peers": [{"name": "a", "address": "10.9.0.1"}]}}},
     "access.wireguard.peers[0]"),
])
def test_spec_errors_name_the_field(tmp_path: Path, section: dict[str, object], field: str) -> None:
    with pytest.raises(IntentError, match=field.replace("[", r"\[").replace("]", r"\]")):
        generate(_intent(tmp_path, **section))


def test_refuses_paths_outside(tmp_path: Path) -> None:
    with pytest.raises(IntentError):
        _inside(tmp_path, "../escape.yaml")
    with pytest.raises(IntentError):
        _inside(tmp_path, "/etc/passwd")
    (tmp_path / "link").symlink_to("/tmp")
    with pytest.raises(IntentError):
        _inside(tmp_path, "link/x")


def test_workload_zones_need_and_use_workloads(tmp_path: Path) -> None:
    doc = {"apiVersion": "ringwall.dev/v1alpha1", "kind": "Intent", "metadata": {"name": "w"},
           "zones": [{"name": "api", "workloads": ["backend/api"]}, {"name": "db", "workloads": ["data/postgres"]}],
           "flows": [{"name": "api-to-db", "from": "api", "to": "db", "ports": ["TCP/5432"]}]}
    intent = tmp_path / "intent.yaml"
    intent.write_text(yaml.safe_dump(doc))
    with pytest.raises(IntentError, match="--workloads"):
        generate(intent, ["netpol"])
    files, _ = generate(intent, ["netpol"], [str(p) for p in SHOP_WORKLOADS])
    data = {f.path: list(yaml.safe_load_all(f.content)) for f in files}
    (ingress,) = [d for d in data["kubernetes/data.yaml"] if d["metadata"]["name"] == "api-to-db-ingress"]
    assert ingress["spec"]["podSelector"] == {"matchLabels": {"app": "postgres", "tier": "data"}}
    (peer,) = ingress["spec"]["ingress"][0]["from"]
    assert peer == {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "backend"}},
                    "podSelector": {"matchLabels": {"app": "api", "tier": "backend"}}}
    # every namespace of the workloads is isolated, not just those the zones name
    assert {"kubernetes/frontend.yaml", "kubernetes/monitoring.yaml"} <= set(data)


def test_nodelocal_dns_and_ipv6_zone(tmp_path: Path) -> None:
    intent = _intent(tmp_path, cluster={"pod_cidr": ["10.244.0.0/16", "fd00:10:244::/56"], "node_cidr": "192.0.2.0/25",
                                        "dns": {"nodelocal": "169.254.20.10"}})
    files = {f.path: f.content for f in generate(intent)[0]}
    dns = next(d for d in yaml.safe_load_all(files["kubernetes/web.yaml"]) if d["metadata"]["name"] == "allow-dns")
    assert {"ipBlock": {"cidr": "169.254.20.10/32"}} in dns["spec"]["egress"][0]["to"]
    web = [d for d in yaml.safe_load_all(files["kubernetes/web.yaml"]) if d["metadata"]["name"] == "public-web-ingress"]
    blocks = [p["ipBlock"] for p in web[0]["spec"]["ingress"][0]["from"]]
    assert {"cidr": "::/0", "except": ["fd00:10:244::/56"]} in blocks
    assert "ip saddr 10.244.0.0/16 ip daddr 169.254.20.10/32 udp dport 53 accept" in files["hosts/worker.nft"]
    assert "ip6 saddr fd00:10:244::/56 accept" in files["hosts/worker.nft"]


def test_synthetic_workloads_helper_is_loadable(tmp_path: Path) -> None:
    from ringwall.analysis.estate import load_estate

    p = tmp_path / "w.yaml"
    p.write_text(workloads_yaml([("a", "x", {"app": "x"})]))
    assert {w.key for w in load_estate([p]).cluster.workloads} == {"a/x[Deployment]", "kube-system/coredns[Deployment]"}


def test_colliding_flow_names_are_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load(Path(MINIMAL).read_text())
    doc["flows"].append({"name": "Web_to_DB", "from": "web", "to": "db", "ports": ["TCP/5433"]})
    with pytest.raises(IntentError, match="differ in letters or digits"):
        generate(_intent(tmp_path, flows=doc["flows"]), ["netpol"])


def test_unknown_endpoint_is_named(tmp_path: Path) -> None:
    flows = [{"name": "public-web", "from": "internet", "to": "web"}, {"name": "x", "from": "nowhere", "to": "db"}]
    with pytest.raises(IntentError, match="'nowhere' is neither a zone"):
        generate(_intent(tmp_path, flows=flows), ["netpol"])


def test_same_output_whatever_the_hash_seed(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    code = ("import sys; from ringwall.generate.cli import generate\n"
            "files, _ = generate(sys.argv[1])\n"
            "sys.stdout.write(''.join(f.path + f.content for f in files))")
    outs = {subprocess.run([sys.executable, "-c", code, str(INTENTS / "shop-full.yaml")], capture_output=True,
                           text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")}
    assert len(outs) == 1
