"""``ringwall snapshot`` and ``ringwall watch`` through the CLI, against the recorded API server."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from ringwall.analysis.connlist import compute_connlist
from ringwall.cli import app as ringwall_app
from ringwall.live.cli import snapshot_command, watch_command
from ringwall.live.estate import load_live_estate
from ringwall.live.snapshot import SnapshotError, write_snapshot
from ringwall.live.source import LiveOptions, read_live
from ringwall.live.watch import parse_interval, relative_source_path, watch_loop
from ringwall.report import connlist_formats

live_app = typer.Typer()
live_app.command("snapshot")(snapshot_command)
live_app.command("watch")(watch_command)
runner = CliRunner()


def _snapshot(kc: Path, out: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(live_app, ["snapshot", "--kubeconfig", str(kc), "--context", "fake", "-o", str(out),
                                    *extra])


def test_snapshot_then_matrix_offline_equals_live(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    res = _snapshot(kc, tmp_path / "snap")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(f"snapshot {tmp_path / 'snap'}: cluster fake (v1.31.2): ")
    manifest = orjson.loads((tmp_path / "snap" / "manifest.json").read_bytes())
    assert manifest["schema"] == "ringwall.snapshot/v1" and manifest["kind"] == "RingwallSnapshot"
    assert manifest["source"]["cluster"]["context"] == "fake"
    assert manifest["versions"]["kubernetes_server"] == "v1.31.2"
    assert manifest["versions"]["ringwall"]
    assert manifest["resources"]["pods"] == {"version": "v1", "count": 5, "file": "cluster/pods.json"}
    assert manifest["time"].endswith("Z")
    offline = runner.invoke(ringwall_app, ["matrix", str(tmp_path / "snap")])
    assert offline.exit_code == 0, offline.output
    live, _ = load_live_estate(LiveOptions(kubeconfig=str(kc), context="fake", timeout=5))
    assert offline.stdout == connlist_formats.render(compute_connlist(live.engine()), "txt")
    assert "RingwallSnapshot" not in offline.output  # the manifest is not taken for a manifest


def test_snapshot_diff_after_a_change(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    assert _snapshot(kc, tmp_path / "before").exit_code == 0
    pols = api.objects["networkpolicies.networking.k8s.io"]
    api.objects["networkpolicies.networking.k8s.io"] = [p for p in pols if p["metadata"]["name"] != "db-from-web"]
    assert _snapshot(kc, tmp_path / "after").exit_code == 0
    res = runner.invoke(ringwall_app, ["diff", str(tmp_path / "before"), str(tmp_path / "after")])
    assert res.exit_code == 0, res.output
    assert res.stdout == "".join(
        f"diff-type: removed, layer: {layer}, source: shop/web-7d9f[ReplicaSet], destination: shop/db[StatefulSet], "
        "dir1: TCP 5432, dir2: No Connections\n" for layer in ("all", "netpol"))


def test_snapshot_refuses_to_overwrite(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    res = _snapshot(kc, other)
    assert res.exit_code == 2
    assert "is not empty" in res.stderr and (other / "notes.txt").exists()
    res = _snapshot(kc, other, "--force")
    assert res.exit_code == 2 and "holds no ringwall snapshot; refusing" in res.stderr
    assert _snapshot(kc, tmp_path / "s").exit_code == 0
    assert _snapshot(kc, tmp_path / "s", "--force").exit_code == 0
    capture = read_live(LiveOptions(kubeconfig=str(kc), context="fake"))
    with pytest.raises(SnapshotError):
        write_snapshot(capture, tmp_path / "s")


def test_snapshot_rbac_error_is_one_line_exit_2(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api(forbidden={"pods"})
    res = _snapshot(kc, tmp_path / "snap")
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1
    assert res.stderr.startswith("ringwall: error: forbidden: cannot list pods cluster-wide")
    assert not (tmp_path / "snap").exists()


def test_snapshot_needs_a_source(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(live_app, ["snapshot", "-o", str(tmp_path / "x")])
    assert res.exit_code == 2 and "needs a live source" in res.stderr


def test_parse_interval() -> None:
    assert parse_interval("5m") == 300
    assert parse_interval("30s") == parse_interval("30") == 30
    assert parse_interval("1h") == 3600
    assert parse_interval("250ms") == 0.25
    for bad in ("", "5 minutes", "-1m", "0s"):
        with pytest.raises(ValueError):
            parse_interval(bad)


def test_relative_source_path() -> None:
    assert relative_source_path("cluster:prod/pods.json", ()) == "cluster/pods.json"
    assert relative_source_path("/snap/cluster/pods.json", ("/snap",)) == "cluster/pods.json"
    assert relative_source_path("/elsewhere/x", ("/snap",)) == "/elsewhere/x"


def test_watch_reports_drift_in_jsonl(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    options = LiveOptions(kubeconfig=str(kc), context="fake", timeout=5)

    def read():  # type: ignore[no-untyped-def]
        estate, _ = load_live_estate(options, workdir=tmp_path)
        return estate, (str(tmp_path),)

    def change(iteration: int) -> None:
        if iteration == 2:  # between read 2 and 3: someone deletes a policy
            pols = api.objects["networkpolicies.networking.k8s.io"]
            api.objects["networkpolicies.networking.k8s.io"] = [
                p for p in pols if p["metadata"]["name"] != "web-from-anywhere"]

    out = io.StringIO()
    code = watch_loop(read, interval=0.01, count=3, fmt="jsonl", out=out, source="cluster:fake",
                      on_read=change, sleep=lambda s: None)
    assert code == 0
    events = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert [e["event"] for e in events] == ["baseline", "unchanged", "change"]
    assert all(e["schema"] == "ringwall.watch/v1" for e in events)
    removed = {(c["src"], c["dst"], c["diff-type"]) for c in events[2]["connectivity"]}
    assert ("default/client[Pod]", "shop/web-7d9f[ReplicaSet]", "removed") in removed
    assert events[2]["connections"] < events[0]["connections"]


def test_watch_command_text_and_ctrl_c(fake_api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    res = runner.invoke(live_app, ["watch", "--kubeconfig", str(kc), "--context", "fake", "--count", "2",
                                   "--interval", "10ms"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert "baseline cluster:fake: " in lines[0] and lines[1].endswith("no change")

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("ringwall.live.watch.time.sleep", interrupt)
    res = runner.invoke(live_app, ["watch", "--kubeconfig", str(kc), "--context", "fake", "--interval", "5m"])
    assert res.exit_code == 0
    assert "watch stopped" in res.stderr and "baseline" in res.stdout


def test_watch_against_a_snapshot(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    assert _snapshot(kc, tmp_path / "snap").exit_code == 0
    res = runner.invoke(live_app, ["watch", "--kubeconfig", str(kc), "--context", "fake", "--count", "1",
                                   "--against", str(tmp_path / "snap"), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    event = orjson.loads(res.stdout.splitlines()[0])
    # Same cluster: nothing changed, although the paths differ (folder vs cluster:fake/...).
    assert event["event"] == "unchanged", event
    assert event["findings_added"] == event["findings_removed"] == []


def test_watch_keeps_going_when_a_read_fails(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    api, kc = fake_api()
    options = LiveOptions(kubeconfig=str(kc), context="fake", timeout=2)
    from ringwall.live.cluster import LiveError

    def read():  # type: ignore[no-untyped-def]
        estate, _ = load_live_estate(options, workdir=tmp_path)
        return estate, (str(tmp_path),)

    def stop(iteration: int) -> None:
        if iteration == 1:
            api.forbidden.add("pods")

    out = io.StringIO()
    watch_loop(read, interval=0, count=2, fmt="text", out=out, source="x", on_read=stop, sleep=lambda s: None,
               recoverable=(LiveError,))
    lines = out.getvalue().splitlines()
    assert "baseline" in lines[0] and "read failed: forbidden: cannot list pods" in lines[1]


def test_watch_keep_writes_every_read(fake_api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, kc = fake_api()
    res = runner.invoke(live_app, ["watch", "k8s:fake", "--kubeconfig", str(kc), "--count", "2", "--interval", "10ms",
                                   "--keep", str(tmp_path / "kept"), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    kept = sorted((tmp_path / "kept").iterdir())
    assert [k.name[:5] for k in kept] == ["0001-", "0002-"]
    assert all((k / "manifest.json").is_file() and (k / "cluster" / "pods.json").is_file() for k in kept)
    assert [orjson.loads(x)["event"] for x in res.stdout.splitlines()] == ["baseline", "unchanged"]
