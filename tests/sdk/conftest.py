"""Fixtures for the Python SDK test: a development Hoist of its own, and generated clients.

`HOIST_SDK_CLIENT` names the folder holding the package openapi-python-client generated
from the served spec (`hoist_client`); `tests/sdk/run` sets it. The server is started from
`devserver.py` with the binary in `HOIST_BIN`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, os.environ["HOIST_SDK_CLIENT"])

import devserver  # noqa: E402
from hoist_client import AuthenticatedClient, Client  # noqa: E402
from hoist_client.api.meta import dev_token  # noqa: E402
from hoist_client.models import DataDevToken  # noqa: E402


@pytest.fixture(scope="session")
def server():
    log = os.environ.get("HOIST_SDK_LOG")
    dev = devserver.start(log_path=Path(log) if log else None)
    yield dev
    dev.stop()


@pytest.fixture(scope="session")
def store_root(server) -> Path:
    """The embedded store's folder: ground truth read without going through Hoist."""
    return Path(server.workdir.name) / "data"


@pytest.fixture(scope="session")
def anonymous(server) -> Client:
    # Every status the server sends must be one the spec documents for the operation.
    return Client(base_url=server.url, raise_on_unexpected_status=True, timeout=30)


def _token(anonymous: Client, supreme: bool) -> str:
    answer = dev_token.sync(client=anonymous, supreme=supreme, sub="sdk-test")
    assert isinstance(answer, DataDevToken), answer
    assert answer.data.is_supreme is supreme
    return answer.data.token


@pytest.fixture(scope="session")
def supreme(server, anonymous) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=server.url,
        token=_token(anonymous, True),
        raise_on_unexpected_status=True,
        timeout=30,
    )


@pytest.fixture(scope="session")
def user(server, anonymous) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=server.url,
        token=_token(anonymous, False),
        raise_on_unexpected_status=True,
        timeout=30,
    )
