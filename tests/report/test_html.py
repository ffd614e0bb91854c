"""The HTML report: self-contained, escaped, and readable in a real browser (headless Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

from ringwall.analysis.estate import LoadOptions, load_estate
from ringwall.analysis.scan import run_scan
from ringwall.report.html import render_html

EVIL = "<script>document.title='pwned'</script>"


def _estate_with_evil_label(tmp_path: Path):  # type: ignore[no-untyped-def]
    shutil.copytree(REPO_ROOT / "examples" / "shop", tmp_path / "shop")
    (tmp_path / "shop" / "evil.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: evil, namespace: frontend}\n"
        "spec:\n  podSelector:\n    matchLabels:\n      app: \"" + EVIL.replace('"', '\\"') + "\"\n"
        "  policyTypes: [Ingress]\n"
    )
    return load_estate([str(tmp_path / "shop")], LoadOptions())


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    html = render_html(run_scan(_estate_with_evil_label(tmp_path)))
    assert EVIL not in html  # never raw
    assert "&lt;script&gt;document.title=" in html  # rendered as text in the findings table
    for marker in ('id="layers"', 'id="coverage"', 'id="depth"', 'id="scorecard"', 'id="findings"'):
        assert marker in html
    assert "http://" not in html.replace("http://www.w3.org", "")  # nothing to fetch
    assert "https://" not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (.ci/run installs it)")
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(run_scan(_estate_with_evil_label(tmp_path))), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=False).stdout
    assert "<title>Ringwall report</title>" in dom  # the injected script did not run
    assert "&lt;script&gt;document.title=" in dom
    assert dom.count('<tr data-severity="') >= 9
    assert "<svg" in dom or "Install graphviz" in dom
    artifacts = Path(os.environ.get("RINGWALL_ARTIFACTS", REPO_ROOT / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1400,2400", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.stat().st_size > 10_000
