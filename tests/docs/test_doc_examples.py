"""The README and docs as executable documentation (issue 13.11).

Every fenced block that starts with a ``$ `` prompt is a transcript: each ``$ command`` line is
run (in a scratch folder holding a copy of ``examples/``, so commands that write files touch
nothing of the repository) and what it prints must be exactly the lines that follow it, up to the
next prompt. An ellipsis ``…`` stands for text left out: alone on a line, for any number of lines;
inside a line, for any text on that line. Blocks without a prompt (```sh) are illustrations and are
not run; a transcript of a live system (a cluster, a clock) is fenced ```console and not run either.
A transcript that needs root says so with ``$ sudo`` and is skipped here (the lab tests cover it).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
ELLIPSIS = "\u2026"


@dataclass
class Step:
    command: str
    expected: str


@dataclass
class Transcript:
    doc: Path
    line: int
    steps: list[Step]

    @property
    def id(self) -> str:
        return f"{self.doc.name}:{self.line}"


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """(first line number, info string, body) of every fenced block, fences paired in order."""
    blocks: list[tuple[int, str, str]] = []
    info: str | None = None
    body: list[str] = []
    start = 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.startswith("```"):
            if info is None:
                info, body, start = line[3:].strip(), [], number + 1
            else:
                blocks.append((start, info, "".join(body)))
                info = None
        elif info is not None:
            body.append(line)
    return blocks


def transcripts(doc: Path) -> list[Transcript]:
    out: list[Transcript] = []
    for start, info, body in fenced_blocks(doc.read_text(encoding="utf-8")):
        if info not in ("", "text") or not body.startswith("$ "):
            continue
        steps: list[Step] = []
        for line in body.splitlines(keepends=True):
            if line.startswith("$ "):
                steps.append(Step(line[2:].rstrip("\n"), ""))
            else:
                steps[-1].expected += line
        out.append(Transcript(doc, start, steps))
    return out


ALL = [t for doc in DOCS for t in transcripts(doc)]


def test_the_readme_has_transcripts() -> None:
    """The parser finds the README's examples (a test that would pass on an empty list is no test)."""
    readme = [t for t in ALL if t.doc.name == "README.md"]
    commands = [s.command.split()[:2] for t in readme for s in t.steps]
    assert len(readme) >= 3 and ["ringwall", "explain"] in commands and ["ringwall", "diff"] in commands


def matches(expected: str, actual: str) -> bool:
    """Exact, except where the documentation writes an ellipsis (see the module docstring)."""
    if ELLIPSIS not in expected:
        return actual == expected
    pattern = ""
    for line in expected.splitlines(keepends=True):
        if line.strip() == ELLIPSIS:
            pattern += r"(?:[^\n]*\n)*?"
        else:
            pattern += ".*?".join(re.escape(part) for part in line.split(ELLIPSIS))
    return re.fullmatch(pattern, actual) is not None


def test_ellipsis_matching() -> None:
    assert matches("a\n…\nd\n", "a\nb\nc\nd\n") and matches("a\n…\nd\n", "a\nd\n")
    assert matches("x … z\n", "x y y z\n") and not matches("x … z\n", "x y\nz\n")
    assert not matches("a\nd\n", "a\nb\nd\n") and not matches("a\n…\nd\n", "a\nb\n")


@pytest.mark.parametrize("transcript", ALL, ids=[t.id for t in ALL])
def test_transcript_output_is_exact(transcript: Transcript, tmp_path: Path) -> None:
    if any(s.command.startswith("sudo ") for s in transcript.steps):
        pytest.skip("needs root and network namespaces (covered by the lab tests)")
    shutil.copytree(REPO_ROOT / "examples", tmp_path / "examples")
    ringwall = str(Path(sys.executable).with_name("ringwall"))
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    for step in transcript.steps:
        words = shlex.split(step.command)
        command = step.command
        if words[0] == "ringwall":
            command = " ".join(shlex.quote(w) for w in [ringwall, *words[1:]])
        run = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert matches(step.expected, run.stdout), (
            f"{transcript.id}: `{step.command}` printed:\n{run.stdout}{run.stderr}")


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", [*DOCS, REPO_ROOT / "benchmarks" / "README.md"], ids=lambda p: p.name)
def test_links_stay_inside_the_repository(doc: Path) -> None:
    """A relative link must name a file of the repository (users do not have the authors' folders)."""
    for target in LINK.findall(doc.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(REPO_ROOT.resolve()) and resolved.exists(), f"{doc.name}: {target}"
