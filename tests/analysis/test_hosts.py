"""Host inventory: rulesets grouped into hosts, addresses from an inventory or Node objects."""

from __future__ import annotations

import shutil
from pathlib import Path

from ringwall.analysis.estate import load_estate
from ringwall.analysis.flows import build_flow_model
from ringwall.analysis.hosts import host_inventory
from tests.conftest import REPO_ROOT

HOSTS = REPO_ROOT / "examples" / "hosts"


def test_grouping_by_name_snapshot_layout_and_inventory(tmp_path: Path) -> None:
    shutil.copy(HOSTS / "k8s-worker.rules", tmp_path / "worker-1.rules")
    shutil.copy(HOSTS / "k8s-worker.rules", tmp_path / "worker-1.v6.rules")
    (tmp_path / "hosts" / "edge").mkdir(parents=True)
    shutil.copy(HOSTS / "bastion.nft", tmp_path / "hosts" / "edge" / "ruleset.nft")
    (tmp_path / "dumps").mkdir()
    shutil.copy(HOSTS / "mistakes.rules", tmp_path / "dumps" / "old-box.rules")
    (tmp_path / "inventory.yaml").write_text(
        "apiVersion: ringwall.dev/v1alpha1\nkind: HostInventory\nhosts:\n"
        "- {name: legacy, address: 198.51.100.7, role: bastion, rules: [dumps/old-box.rules]}\n"
    )
    (tmp_path / "nodes.yaml").write_text(
        "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1}\n"
        "status: {addresses: [{type: Hostname, address: worker-1}, {type: InternalIP, address: 192.0.2.11}]}\n"
    )
    estate = load_estate([str(tmp_path)])
    hosts = {h.name: h for h in host_inventory(estate)}
    assert sorted(hosts) == ["edge", "legacy", "worker-1"]
    assert sorted(p.name for p in hosts["worker-1"].files) == ["worker-1.rules", "worker-1.v6.rules"]
    assert hosts["worker-1"].address == "192.0.2.11"  # from the Node object
    assert (hosts["legacy"].address, hosts["legacy"].role) == ("198.51.100.7", "bastion")
    assert hosts["edge"].address is None
    model = build_flow_model(estate)
    assert {"host:edge", "host:legacy", "host:worker-1"} <= set(model.endpoints)
    view = model.layer("hostfw")
    assert view is not None and "edge" in view.note  # its address is unknown, and it says so
    # Each host is judged by its own ruleset: the bastion admits SSH only from its admins set.
    assert view.verdict(("zone:internet", "host:edge")) != view.verdict(("zone:internet", "host:worker-1"))


def test_inventory_naming_a_missing_file_is_a_warning(tmp_path: Path) -> None:
    shutil.copy(HOSTS / "bastion.nft", tmp_path / "bastion.nft")
    (tmp_path / "inventory.yaml").write_text(
        "apiVersion: ringwall.dev/v1alpha1\nkind: HostInventory\nhosts:\n- {name: b, rules: [nope.rules]}\n- {}\n")
    estate = load_estate([str(tmp_path)])
    assert [h.name for h in host_inventory(estate)] == ["bastion"]
    assert [d.code for d in estate.sink.items] == ["hosts.inventory", "hosts.inventory"]


def test_host_firewall_decides_hostnetwork_workloads(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "examples" / "shop", tmp_path / "shop")
    shutil.copy(HOSTS / "k8s-worker.rules", tmp_path / "worker.rules")
    model = build_flow_model(load_estate([str(tmp_path)]))
    view = model.layer("hostfw")
    assert view is not None
    pair = ("zone:internet", "monitoring/node-exporter[DaemonSet]")
    assert view.scope(*pair)
    assert not view.verdict(pair).allows("TCP", 9100)  # the worker's INPUT drops it
    assert model.combined(pair).allows("TCP", 9100) is False
    assert not view.scope("backend/api[Deployment]", "monitoring/node-exporter[DaemonSet]")  # pods: not modelled
