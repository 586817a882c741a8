"""The files the centre's pages load, all served by the app itself (no CDN at run time).

Our own script and style sheet ship in the package (``static/``). The chart library comes from
the npm registry at build time: ``make web-assets`` runs ``npm ci`` over ``web/package.json``
and its lock file into ``build/web`` (or the folder named by ``IOTSCOPE_WEB_BUILD``). When it is
absent the pages still work: tables carry every number and the page says charts are
unavailable.
"""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).parent
#: served name -> path inside the npm build folder
VENDOR: dict[str, str] = {"echarts.min.js": "node_modules/echarts/dist/echarts.min.js"}
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def web_build() -> Path:
    """Where ``npm ci`` installed the browser libraries."""
    env = os.environ.get("IOTSCOPE_WEB_BUILD")
    if env:
        return Path(env)
    # an editable install or a checkout: <repo>/src/iotscope/centre -> <repo>/build/web
    repo = _HERE.parents[2]
    return repo / "build" / "web"


def static_files(build: Path | None = None) -> dict[str, Path]:
    """Every file the app serves under ``/centre/static/``, by name (only these)."""
    files = {p.name: p for p in (_HERE / "static").iterdir() if p.suffix in MEDIA_TYPES}
    root = build or web_build()
    for name, rel in VENDOR.items():
        if (root / rel).is_file():
            files[name] = root / rel
    return files


def charts_available(build: Path | None = None) -> bool:
    """Is the chart library installed?"""
    return "echarts.min.js" in static_files(build)
