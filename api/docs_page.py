"""The API's documentation page, ``/api/v1/docs``: Swagger UI from the installed npm package, never a CDN.

A bank's intranet usually reaches no CDN, and a page that loads its code from one stays blank there. The
assets come from ``swagger-ui-dist`` in ``node_modules`` (``package.json``, installed by ``npm ci`` with the
explorer's library) and are served under ``/vendor/swagger-ui``; without them the page says how to install
them, naming no server path.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.explorer import NODE_MODULES

SWAGGER_UI = NODE_MODULES / "swagger-ui-dist"
ASSETS_PATH = "/vendor/swagger-ui"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")

NOT_INSTALLED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crm-graph: API documentation not installed</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The API documentation page is not installed</h1>
<p>It shows Swagger UI, installed from npm (<code>swagger-ui-dist</code>) into <code>node_modules/</code>, and it
is not there. Run <code>npm ci</code> in the repository root, then reload this page. The OpenAPI document itself
is at <a href="{openapi_url}">{openapi_url}</a>.</p>
</body></html>
"""


def install(app: FastAPI, docs_url: str, openapi_url: str) -> None:
    """Serve Swagger UI at ``docs_url`` over ``openapi_url``, its assets from ``node_modules``."""

    @app.get(docs_url, include_in_schema=False)
    async def docs_page() -> Response:
        if not all((SWAGGER_UI / name).is_file() for name in ASSETS):
            return HTMLResponse(NOT_INSTALLED.format(openapi_url=openapi_url), status_code=503)
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    # check_dir=False: the API starts without node_modules; the page above says what is missing.
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI, check_dir=False), name="swagger-ui")
