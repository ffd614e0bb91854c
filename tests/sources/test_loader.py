"""Reading input: every object keeps file and line, bad documents cost one diagnostic each."""

from __future__ import annotations

from pathlib import Path

import pytest

from ringwall.model.diagnostics import DiagnosticSink, Level
from ringwall.sources.loader import load_paths, parse_text

MULTI = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# a comment before the object
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  podSelector: {}
  ingress:
  - from:
    - podSelector:
        matchLabels:
          app: web
    ports:
    - port: 8080
---
apiVersion: v1
kind: ConfigMap
metadata: {name: broken
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
"""


def test_multi_document_lines_and_broken_document() -> None:
    sink = DiagnosticSink()
    docs = parse_text(MULTI, "m.yaml", sink)
    assert [d.kind for d in docs] == ["Namespace", "NetworkPolicy", "Service"]
    assert [d.locate().line for d in docs] == [1, 7, 26]
    pol = docs[1]
    assert pol.locate(("spec", "ingress", 0, "from", 0)).line == 16
    assert pol.locate(("spec", "ingress", 0, "ports", 0, "port")).line == 20
    assert pol.locate(("spec", "podSelector")).line == 13
    # The broken third document is one error with its line; its neighbours are still read.
    assert len(sink.items) == 1
    diag = sink.items[0]
    assert diag.level is Level.ERROR and diag.code == "input.yaml"
    assert diag.location.path == "m.yaml" and diag.location.line in (23, 24, 25)
    assert "invalid YAML" in diag.message


def test_list_dump_items_keep_their_lines() -> None:
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: a
    namespace: x
- apiVersion: v1
  kind: Pod
  metadata:
    name: b
    namespace: x
  spec:
    containers:
    - name: c
      ports:
      - containerPort: 80
"""
    sink = DiagnosticSink()
    docs = parse_text(text, "dump.yaml", sink)
    assert [d.name for d in docs] == ["a", "b"]
    assert [d.locate().line for d in docs] == [4, 9]
    assert docs[1].locate(("spec", "containers", 0, "ports", 0)).line == 18
    assert not sink.items


def test_podlist_items_get_kind_and_json_lines() -> None:
    text = (
        '{\n  "apiVersion": "v1",\n  "kind": "PodList",\n  "items": [\n    {\n      "metadata": {"name": "a"}\n'
        '    },\n    {\n      "metadata": {"name": "b"}\n    }\n  ]\n}\n'
    )
    sink = DiagnosticSink()
    docs = parse_text(text, "pods.json", sink)
    assert [(d.kind, d.name) for d in docs] == [("Pod", "a"), ("Pod", "b")]
    assert [d.locate().line for d in docs] == [5, 8]


def test_alias_bomb_is_refused() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n"
    prev = "a"
    for name in "bcdefgh":
        bomb += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    bomb += "kind: ConfigMap\n"
    sink = DiagnosticSink()
    assert parse_text(bomb, "bomb.yaml", sink) == []
    assert [d.code for d in sink.items] == ["input.alias-bomb"]
    assert sink.items[0].location.line == 1


def test_invalid_json_names_the_line() -> None:
    sink = DiagnosticSink()
    assert parse_text('{\n  "kind": "Pod",\n  "metadata": {,}\n}\n', "bad.json", sink) == []
    assert sink.items[0].code == "input.json"
    assert sink.items[0].location.line == 3


def test_non_kubernetes_documents_are_reported_not_fatal() -> None:
    sink = DiagnosticSink()
    docs = parse_text("just: a map\n---\n- 1\n- 2\n---\nkind: Pod\nmetadata: {name: p}\n", "x.yaml", sink)
    assert [d.kind for d in docs] == ["Pod"]
    assert [d.code for d in sink.items] == ["input.not-k8s", "input.not-k8s"]


def test_duplicate_keys_warn_and_last_wins() -> None:
    sink = DiagnosticSink()
    docs = parse_text("kind: Pod\nmetadata:\n  name: a\n  name: b\n", "dup.yaml", sink)
    assert docs[0].name == "b"
    assert [d.code for d in sink.items] == ["input.duplicate-key"]


def test_folders_recursive_and_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yml").write_text("kind: Namespace\nmetadata: {name: a}\n")
    (tmp_path / "b.json").write_text('{"kind": "Namespace", "metadata": {"name": "b"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / ".hidden.yaml").write_text("kind: Namespace\nmetadata: {name: hidden}\n")
    sink = DiagnosticSink()
    result = load_paths([tmp_path, tmp_path / "nope.yaml"], sink)
    assert sorted(d.name for d in result.documents) == ["a", "b"]
    assert [p.name for p in result.other_files] == ["notes.txt"]
    assert [d.code for d in sink.items] == ["input.missing"]


def test_stdin() -> None:
    sink = DiagnosticSink()
    result = load_paths(["-"], sink, stdin_text="kind: Namespace\nmetadata: {name: s}\n")
    assert [d.name for d in result.documents] == ["s"]
    assert result.documents[0].locate().path == "-"


@pytest.mark.parametrize(
    "text", ["\ufeffkind: Namespace\nmetadata: {name: bom}\n", "--- \nkind: Namespace\nmetadata: {name: bom}\n"]
)
def test_bom_and_leading_separator(text: str) -> None:
    sink = DiagnosticSink()
    assert [d.name for d in parse_text(text, "f.yaml", sink)] == ["bom"]
