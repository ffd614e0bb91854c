"""Lab tests need root, network namespaces and the ip/nft/iptables tools; they skip cleanly otherwise."""

from __future__ import annotations

import pytest

from ringwall.lab.netns import missing_requirements


@pytest.fixture
def lab_ready() -> None:
    missing = missing_requirements()
    if missing:
        pytest.skip("lab needs " + ", ".join(missing))
