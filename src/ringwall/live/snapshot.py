"""Write a capture as a folder any command can read offline: ``cluster/``, ``hosts/``, ``manifest.json``.

The cluster files are byte for byte the texts the live source parsed, so a command on the
snapshot sees the same documents, in the same order, at the same lines, as on the live read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from ringwall.live.host import write_host
from ringwall.live.source import SNAPSHOT_KIND, Capture

MANIFEST = "manifest.json"


class SnapshotError(RuntimeError):
    """The output folder cannot be used (not empty and not an earlier snapshot, or not writable)."""


def is_snapshot(folder: Path) -> bool:
    """True when ``folder`` holds a manifest this module wrote."""
    try:
        data = orjson.loads((folder / MANIFEST).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("kind") == SNAPSHOT_KIND


def prepare(folder: Path, force: bool) -> None:
    """Make ``folder`` ready: create it, or with ``force`` replace an earlier snapshot (never other data)."""
    if folder.exists() and not folder.is_dir():
        raise SnapshotError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()):
        if not force:
            raise SnapshotError(f"{folder} is not empty (use --force to replace an earlier snapshot there)")
        if not is_snapshot(folder):
            raise SnapshotError(f"{folder} is not empty and holds no ringwall snapshot; refusing to replace it")
        for child in folder.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def write_snapshot(capture: Capture, folder: Path, *, force: bool = False) -> list[Path]:
    """Write every file of ``capture`` and the manifest into ``folder``; return the files written."""
    prepare(folder, force)
    written: list[Path] = []
    c = capture.cluster
    if c is not None:
        (folder / "cluster").mkdir()
        for name, text in c.texts.items():
            path = folder / "cluster" / name
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for host in capture.hosts:
        written.extend(write_host(host, folder / "hosts" / host.name))
    manifest = folder / MANIFEST
    manifest.write_bytes(orjson.dumps(capture.manifest(), option=orjson.OPT_INDENT_2) + b"\n")
    written.append(manifest)
    return written
