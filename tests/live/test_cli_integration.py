"""The live sources through the main ``ringwall`` command, once docs/live-integration.patch is applied.

Skipped before: ``ringwall.cli`` belongs to the core, and the patch is how it mounts live sources.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ringwall.cli import app
from ringwall.live.cli import resolve_sources
from ringwall.live.source import LiveOptions

runner = CliRunner()
PATCHED = any(c.name == "snapshot" for c in app.registered_commands)
needs_patch = pytest.mark.skipif(not PATCHED, reason="docs/live-integration.patch is not applied to ringwall.cli")


def test_resolve_sources() -> None:
    base = LiveOptions(kubeconfig="/k", context="dev", timeout=7)
    files, live = resolve_sources(["a.yaml", "k8s:prod", "host:local", "host:n1=/d"], base)
    assert files == ["a.yaml"]
    assert (live.kubeconfig, live.context, live.hosts, live.timeout, live.cluster) == (
        "/k", "prod", ("local", "n1=/d"), 7, True)
    files, live = resolve_sources(["k8s:"], base)
    assert live.context == "dev" and live.cluster
    files, live = resolve_sources(["a", "b"], base)  # options before a command do not leak into diff A B
    assert files == ["a", "b"] and not live.any
    files, live = resolve_sources([], base)
    assert (live.kubeconfig, live.context, live.cluster, live.timeout) == ("/k", "dev", True, 7)
    _, live = resolve_sources(["k8s:in-cluster"], base)
    assert live.in_cluster and live.context is None
    with pytest.raises(ValueError, match="one cluster at a time"):
        resolve_sources(["k8s:a", "k8s:b"], base)


@needs_patch
def test_matrix_on_a_live_source_equals_matrix_on_its_snapshot(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    snap = runner.invoke(app, ["--kubeconfig", str(kc), "snapshot", "k8s:fake", "-o", str(tmp_path / "s")])
    assert snap.exit_code == 0, snap.output
    live = runner.invoke(app, ["--kubeconfig", str(kc), "matrix", "k8s:fake"])
    offline = runner.invoke(app, ["matrix", str(tmp_path / "s")])
    assert live.exit_code == offline.exit_code == 0, live.output
    assert live.stdout == offline.stdout
    only_options = runner.invoke(app, ["--kubeconfig", str(kc), "--context", "fake", "matrix"])
    assert only_options.stdout == offline.stdout
    drift = runner.invoke(app, ["--kubeconfig", str(kc), "diff", str(tmp_path / "s"), "k8s:fake"])
    assert drift.exit_code == 0 and drift.stdout == ""


@needs_patch
def test_live_errors_through_the_main_command(fake_api) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api(forbidden={"services"})
    res = runner.invoke(app, ["--kubeconfig", str(kc), "matrix", "k8s:fake"])
    assert res.exit_code == 2
    assert res.stderr == ("ringwall: error: forbidden: cannot list services cluster-wide (RBAC: grant verb 'list' on "
                          "services; see docs/live.md): services is forbidden: User "
                          '"system:serviceaccount:ringwall:reader" cannot list resource "services" in API group "" '
                          "at the cluster scope\n")
    res = runner.invoke(app, ["matrix"])
    assert res.exit_code == 2 and "no input" in res.stderr
