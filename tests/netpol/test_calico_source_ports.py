"""Calico ``source.ports`` / ``source.notPorts`` (issue 19.7). Connections carry no source port in the
model: a client is taken to connect from some port of Linux's ephemeral range 32768-60999, so a
source-port match that holds for the whole range matches, one that holds for none of it does not,
and one that cuts it leaves the rule out (reported)."""

from __future__ import annotations

from typing import Any

import pytest

from .test_calico_helpers import build, cnp, ns, pod

PODS = [ns("a"), pod("a", "web", {"app": "web"}), pod("a", "db", {"app": "db"})]


def _db(source: dict[str, Any]) -> dict[str, Any]:
    return cnp("a", "db-in", {"selector": "app == 'db'", "ingress": [
        {"action": "Allow", "protocol": "TCP", "source": source, "destination": {"ports": [80]}}]})


@pytest.mark.parametrize(("source", "allowed"), [
    ({"ports": ["1024:65535"]}, True),
    ({"notPorts": [22, 53]}, True),
    ({"ports": [53]}, False),
    ({"ports": ["1:1023"]}, False),
])
def test_source_ports_against_the_ephemeral_range(source: dict[str, Any], allowed: bool) -> None:
    cluster = build([*PODS, _db(source)], cni="calico")
    assert cluster.allowed("a/web", "a/db", "TCP", 80) is allowed


def test_a_source_port_match_cutting_the_range_is_left_out_and_reported() -> None:
    import yaml

    from ringwall.analysis.estate import LoadOptions, load_estate

    estate = load_estate(["-"], LoadOptions(cni="calico"),
                         stdin_text=yaml.safe_dump_all([*PODS, _db({"ports": ["40000:50000"]})]))
    notes = [d.message for d in estate.sink.items if d.code == "calico.approximation"]
    assert len(notes) == 1 and "cut the ephemeral range 32768-60999" in notes[0]
