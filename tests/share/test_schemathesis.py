"""Property-based API tests over the app's own OpenAPI document (schemathesis, in-process via
ASGI): whatever the parameters and bodies, no route answers with a server error.

The SSE stream is left out: it is endless by design (its refusals are in test_tenancy).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from iotscope.service import create_app
from iotscope.share import SHARED_COLLECTION_ID, add_objects
from iotscope.store import open_store
from iotscope.store._tokens import mint_token
from iotscope.tenancy import Principal
from tests.share.conftest import indicator

_DB = Path(os.environ.get("TMPDIR", "/tmp")) / f"iotscope-schemathesis-{os.getpid()}.db"
_DB.unlink(missing_ok=True)
_STORE = open_store(f"sqlite:///{_DB}")
_TOKEN = mint_token(_STORE.engine, "isp", "isp-a")
add_objects(
    _STORE, Principal("isp", "isp-a"), SHARED_COLLECTION_ID, [indicator(i) for i in range(3)]
)
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_STORE)).exclude(
    path_regex="/stream/$"
)

pytestmark = pytest.mark.slow


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {_TOKEN}"}
    if "collection_id" in (case.path_parameters or {}) and hash(str(case.query)) % 2:
        case.path_parameters["collection_id"] = SHARED_COLLECTION_ID  # reach real data too
    case.call_and_validate(checks=[not_a_server_error])
