"""The network explorer: the web page at ``/`` and the browser library it draws graphs with.

The page is plain HTML, CSS and JavaScript modules under ``api/static``; it signs in with a bearer token
and reads only the ``/api/v1`` endpoints, so it shows exactly what the token may see. Cytoscape.js comes
from npm (``package.json`` at the repository root, installed by ``npm ci``) and is served from
``node_modules``; when it is missing, ``/`` answers with a page saying how to install it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
CYTOSCAPE = NODE_MODULES / "cytoscape" / "dist" / "cytoscape.esm.min.mjs"
VENDOR_PATH = "/vendor/cytoscape.esm.min.mjs"

MISSING_LIBRARY = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crm-graph: explorer not installed</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The network explorer is not installed</h1>
<p>The page draws graphs with cytoscape.js, installed from npm into <code>node_modules/</code>, and it is
not there.</p>
<p>Run <code>make demo</code> (it installs everything), or <code>npm ci</code> in the repository root, then
reload this page. The API itself works: see <a href="/api/v1/docs">/api/v1/docs</a>.</p>
</body></html>
"""


def install(app: FastAPI) -> None:
    """Serve the explorer page at ``/``, its files under ``/static`` and cytoscape.js under ``/vendor``."""

    @app.get("/", include_in_schema=False)
    async def explorer_page() -> Response:
        if not CYTOSCAPE.is_file():
            # The page names no server path: it would tell any visitor where and how the service is installed.
            return HTMLResponse(MISSING_LIBRARY, status_code=503)
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get(VENDOR_PATH, include_in_schema=False)
    async def cytoscape_module() -> Response:
        if not CYTOSCAPE.is_file():
            return PlainTextResponse("cytoscape.js is not installed: run `npm ci` (or `make demo`)", status_code=503)
        return FileResponse(CYTOSCAPE, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
