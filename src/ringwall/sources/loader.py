"""Read files, folders and stdin into ``Document`` objects.

YAML goes through ``yaml-rs`` (a safe loader with alias-expansion limits, about 25x faster
than PyYAML's C loader on large dumps); JSON through ``orjson``. Multi-document files are
split on ``---`` first, so a broken document costs one diagnostic and its neighbours are
still read. ``kind: List`` dumps are unpacked into their items.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml_rs

from ringwall.model.diagnostics import DiagnosticSink
from ringwall.model.location import Location
from ringwall.sources.documents import Document, SourceFile
from ringwall.sources.reading import read_input, walk_inputs

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_DOC_SEP = re.compile(r"^(?:---|\.\.\.)(?:[ \t].*)?$", re.MULTILINE)
_ERR_LINE = re.compile(r"line (\d+)(?:, column (\d+))?")
ALIAS_LIMITS = yaml_rs.AliasLimits(
    max_total_replayed_events=1_000_000, max_replay_stack_depth=64, max_alias_expansions_per_anchor=None
)


@dataclass
class LoadResult:
    documents: list[Document] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    other_files: list[Path] = field(default_factory=list)
    """Files that are not manifests (host rulesets, configs) for other readers."""


def load_paths(
    paths: Iterable[str | Path], sink: DiagnosticSink, *, stdin_text: str | None = None
) -> LoadResult:
    """Load every manifest under ``paths``; ``-`` reads stdin."""
    result = LoadResult()
    for raw in paths:
        if str(raw) == "-":
            text = stdin_text if stdin_text is not None else read_input("-", sink)
            result.files.append("-")
            if text is not None:
                result.documents.extend(parse_text(text, "-", sink))
            continue
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            sink.error("input.missing", f"no such file or directory: {path}", Location(str(path)))
            continue
        named = not path.is_dir()
        for file in walk_inputs(path, sink):
            manifest = file.suffix.lower() in MANIFEST_SUFFIXES
            # A file named on the command line, or a manifest, must be readable text; a stray file
            # met in a folder (an image next to the manifests) is skipped with a warning.
            text = read_input(file, sink, warn=not (named or manifest))
            if text is None:
                continue
            if not manifest:
                docs = _manifests_by_content(text, file, sink)
                if docs is None:
                    result.other_files.append(file)
                else:
                    result.files.append(str(file))
                    result.documents.extend(docs)
                continue
            if file.suffix.lower() == ".json" and _is_foreign_json(text):
                result.other_files.append(file)
                continue
            result.files.append(str(file))
            result.documents.extend(parse_text(text, str(file), sink))
    return result


_K8S_HEAD = re.compile(r"^(?:- )?apiVersion:[ \t]*\S", re.MULTILINE)
_K8S_KIND = re.compile(r"^(?:- )?kind:[ \t]*[A-Z]\w*[ \t]*(?:#.*)?$", re.MULTILINE)


def _manifests_by_content(text: str, file: Path, sink: DiagnosticSink) -> list[Document] | None:
    """The Kubernetes objects of a file whose name does not say manifest, or None if it holds none.

    Names lie: ``coredns.yaml.base``, ``coredns.yaml.sed``, ``deploy.yaml.in``, ``manifest.txt``
    are Kubernetes YAML. A file whose text parses as Kubernetes objects (top-level ``apiVersion``
    and ``kind``) is read as manifests whatever its name; a Corefile, a ruleset or an sshd config
    never parses that way, so other readers keep getting them.
    """
    head = text[:65536]
    if not (_K8S_HEAD.search(head) and _K8S_KIND.search(head)):
        return None
    scratch = DiagnosticSink.scratch()
    docs = parse_text(text, str(file), scratch)
    if not any(d.api_version for d in docs):
        return None
    for diagnostic in scratch.items:
        sink.add(diagnostic)
    return docs


def _is_foreign_json(text: str) -> bool:
    """JSON that is not a Kubernetes object, such as ``nft -j list ruleset`` output."""
    head = text[:256].lstrip()
    return head.startswith('{"nftables"') or head.startswith('{\n  "nftables"') or '"nftables"' in head[:40]


def parse_text(text: str, path: str, sink: DiagnosticSink) -> list[Document]:
    """Parse one file's text (YAML or JSON) into documents, reporting what cannot be read."""
    if text.startswith("\ufeff"):
        text = text[1:]
    stripped = text.lstrip()
    if (stripped[:1] in ("{", "[") and path.endswith(".json")) or (
        stripped[:1] == "{" and not path.endswith((".yaml", ".yml"))
    ):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            # Might still be YAML flow style; let the YAML path decide.
            if path.endswith(".json"):
                line = _json_error_line(text, exc)
                sink.error("input.json", f"invalid JSON: {exc.msg}", Location(path, line))
                return []
        else:
            source = SourceFile(path, text, is_json=True)
            end = text.count("\n") + 1
            return list(_documents_from(data, source, 0, end, sink))
    source = SourceFile(path, text)
    docs: list[Document] = []
    for start_line, end_line, chunk in _split_documents(text):
        if not chunk.strip():
            continue
        data = _load_yaml_chunk(chunk, path, start_line, sink)
        if data is None:
            continue
        docs.extend(_documents_from(data, source, start_line, end_line, sink))
    return docs


def _json_error_line(text: str, exc: orjson.JSONDecodeError) -> int:
    return text.count("\n", 0, exc.pos) + 1


def _split_documents(text: str) -> Iterator[tuple[int, int, str]]:
    """Yield (first line, end line, text) per YAML document; lines are 0-based."""
    pos = 0
    line = 0
    for m in _DOC_SEP.finditer(text):
        chunk = text[pos : m.start()]
        nlines = chunk.count("\n")
        yield line, line + nlines, chunk
        line += nlines
        # The separator line itself: content after '---' on the same line belongs to the next doc.
        sep = m.group(0)
        rest = sep[3:].strip() if sep.startswith("---") else ""
        pos = m.end()
        if rest and not rest.startswith("#"):
            # '--- {a: 1}' or '--- !tag': keep the remainder as part of the next document.
            pos = m.start() + 3
    chunk = text[pos:]
    yield line, line + chunk.count("\n") + 1, chunk


def _load_yaml_chunk(chunk: str, path: str, start_line: int, sink: DiagnosticSink) -> Any:
    try:
        return yaml_rs.loads(chunk, parse_datetime=False, alias_limits=ALIAS_LIMITS)
    except yaml_rs.YAMLDecodeError as exc:
        message = str(exc)
        if "duplicate mapping key" in message:
            sink.warning(
                "input.duplicate-key",
                f"{message.splitlines()[0]}; the API server rejects such objects, the last value is used here",
                Location(path, start_line + 1),
            )
            try:
                return yaml_rs.loads(
                    chunk,
                    parse_datetime=False,
                    alias_limits=ALIAS_LIMITS,
                    duplicate_key_policy=yaml_rs.DuplicateKeyPolicy.LastWins,
                )
            except yaml_rs.YAMLDecodeError as exc2:
                message = str(exc2)
        if "alias" in message and ("limit" in message or "depth" in message):
            sink.error(
                "input.alias-bomb",
                "refused: YAML aliases expand beyond the safety limit (alias bomb?)",
                Location(path, start_line + 1),
            )
            return None
        m = _ERR_LINE.search(message)
        line = start_line + int(m.group(1)) if m else start_line + 1
        column = int(m.group(2)) if m and m.group(2) else None
        detail = _yaml_error_detail(message)
        sink.error("input.yaml", f"invalid YAML: {detail}", Location(path, line, column))
        return None


def _yaml_error_detail(message: str) -> str:
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    # yaml-rs prints a header, a code excerpt with a caret, and the reason last.
    reason = lines[-1] if lines else message
    if reason.startswith(("|", "^")) or reason == lines[0]:
        reason = lines[0]
    return reason


def _documents_from(
    data: Any, source: SourceFile, start: int, end: int, sink: DiagnosticSink
) -> Iterator[Document]:
    if data is None:
        return
    if isinstance(data, list):
        # A bare JSON/YAML array of objects (some tools write that): each element is an object.
        bad = 0
        for i, element in enumerate(data):
            if isinstance(element, dict) and isinstance(element.get("kind"), str):
                yield from _expand(Document(element, source, start, end, None), sink, i)
            else:
                bad += 1
        if bad:
            sink.warning(
                "input.not-k8s",
                f"{bad} element(s) of a top-level list are not Kubernetes objects (no 'kind'); ignored",
                Location(source.path, start + 1),
            )
        return
    if not isinstance(data, dict):
        sink.warning(
            "input.not-k8s",
            f"document is a {type(data).__name__}, not a Kubernetes object; ignored",
            Location(source.path, start + 1),
        )
        return
    if not isinstance(data.get("kind"), str):
        sink.warning(
            "input.not-k8s", "document has no 'kind'; not a Kubernetes object, ignored",
            Location(source.path, start + 1),
        )
        return
    yield from _expand(Document(data, source, start, end), sink, None)


def _expand(doc: Document, sink: DiagnosticSink, array_index: int | None) -> Iterator[Document]:
    """Unpack ``kind: List`` / ``*List`` objects into their items."""
    kind = doc.kind
    if kind == "List" or (kind.endswith("List") and isinstance(doc.obj.get("items"), list)):
        items = doc.obj.get("items")
        if not isinstance(items, list):
            if items is not None:
                sink.error("input.list", "'items' of a List must be a list", doc.locate(("items",)))
            return
        item_kind = kind[:-4] if kind != "List" else ""
        api_version = doc.api_version
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                sink.error("input.list", f"item {i} of a List is not an object", doc.locate(("items", i)))
                continue
            if item_kind and "kind" not in item:
                # PodList items from the API omit kind/apiVersion.
                item = {"kind": item_kind, "apiVersion": api_version, **item}
            yield Document(item, doc.source, doc.doc_start, doc.doc_end, i)
        return
    yield doc
