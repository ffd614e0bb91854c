"""Fixtures for live sources: the recorded API server on 127.0.0.1 and a kubeconfig for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ringwall.live.fakeapi import FakeApiServer

RECORDED = Path(__file__).parent / "data" / "recorded"


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[Callable[..., tuple[FakeApiServer, Path]]]:
    """``fake_api(**kwargs)`` starts a recorded server and returns it with a kubeconfig for it."""
    pytest.importorskip("kubernetes", reason="the live extra (pip install 'ringwall[live]') is not installed")
    servers: list[FakeApiServer] = []

    def start(**kwargs: Any) -> tuple[FakeApiServer, Path]:
        api = FakeApiServer.from_folder(RECORDED, **kwargs)
        api.start()
        servers.append(api)
        return api, api.kubeconfig(tmp_path / f"kubeconfig-{len(servers)}.yaml")

    yield start
    for api in servers:
        api.stop()
