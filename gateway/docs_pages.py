"""The browser pages: Swagger UI at /docs, GraphiQL's page for GET /graphql, and the console at
`/` (gateway/static/console/), or `/` -> /docs when the console is off (--no-ui).

Upstream, both pages load their scripts, styles and fonts from public CDNs, so on a machine
without internet access they come up blank. Here every file they load is served by the gateway
from the installed package (gateway/static/, vendored by scripts/vendor_assets.py), and each
HTML answer carries a Content-Security-Policy that lets the browser fetch from this origin only.
"""

from __future__ import annotations

import asyncio
from html import escape

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import MutableHeaders
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.console_sign_on import ConsoleSignOn, ProviderOrigins

STATIC_PATH = "/static"


# No inline script and no inline style: the pages' own code is in gateway/static/*.js and *.css.
# data: URIs are the fonts and icons embedded in the vendored stylesheets (no request is made).
def content_security_policy(connect: tuple[str, ...] = ()) -> str:
    """The pages' policy; `connect` adds origins the page may fetch from (the console's issuer)."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            " ".join(["connect-src 'self'", *connect]),
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

# Asset URLs are relative to the page (/docs, /graphql), so the pages also work behind a proxy
# that serves the gateway under a path prefix.
_STATIC = STATIC_PATH.lstrip("/")
_VENDOR = f"{_STATIC}/vendor"
_HEAD = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}}</title>
<link rel="icon" type="image/svg+xml" href="{_STATIC}/favicon.svg">
"""

SWAGGER_UI_PAGE = (
    _HEAD
    + f"""<link rel="stylesheet" href="{_VENDOR}/swagger-ui-dist/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{_VENDOR}/swagger-ui-dist/swagger-ui-bundle.js"></script>
<script src="{_STATIC}/docs.js" data-openapi-url="{{openapi_url}}"></script>
</body>
</html>
"""
)

GRAPHIQL_PAGE = (
    _HEAD
    + f"""<link rel="stylesheet" href="{_VENDOR}/graphiql/graphiql.min.css">
<link rel="stylesheet" href="{_VENDOR}/graphiql-plugin-explorer/style.css">
<link rel="stylesheet" href="{_STATIC}/graphiql.css">
</head>
<body>
<div id="graphiql" class="graphiql-container">Loading...</div>
<script src="{_VENDOR}/react/react.production.min.js"></script>
<script src="{_VENDOR}/react-dom/react-dom.production.min.js"></script>
<script src="{_VENDOR}/graphiql/graphiql.min.js"></script>
<script src="{_VENDOR}/graphiql-plugin-explorer/index.umd.js"></script>
<script src="{_STATIC}/graphiql.js"></script>
</body>
</html>
"""
)


_GRAPHIQL_HTML = GRAPHIQL_PAGE.format(title="rq-gateway - GraphiQL")

# The console's one page; its views are routed in the browser (#/queue/default, ...), so every
# view's URL is this page. Plain ES modules, no bundler (ARCHITECTURE.md "The console").
CONSOLE_PAGE = (
    _HEAD
    + f"""<link rel="stylesheet" href="{_STATIC}/console/vendor/uplot/uPlot.min.css">
<link rel="stylesheet" href="{_STATIC}/console/console.css">
</head>
<body>
<div id="app"{{sign_on}}><p class="boot">Loading the console…</p></div>
<noscript><p>The console needs JavaScript. The API reference is at /docs.</p></noscript>
<script type="module" src="{_STATIC}/console/app.js"></script>
</body>
</html>
"""
)


def console_page(sign_on: ConsoleSignOn | None = None) -> str:
    attributes = sign_on.page_attributes() if sign_on else ""
    return CONSOLE_PAGE.format(title="rq-gateway - console", sign_on=attributes)


def graphiql_page() -> HTMLResponse:
    return HTMLResponse(_GRAPHIQL_HTML)


def install(app: FastAPI, ui: bool = True, sign_on: ConsoleSignOn | None = None) -> None:
    """Serve the assets, /docs and `/`: the console, or with `ui` off a redirect to /docs. Build
    the app with docs_url=None and redoc_url=None: FastAPI's own pages load from a CDN. ReDoc is
    not served at all. With `sign_on`, the console's page may also fetch from the issuer."""
    app.mount(STATIC_PATH, StaticFiles(packages=[("gateway", "static")]), name="static")
    # FastAPI's openapi_url is absolute (/openapi.json); the page's relative form keeps a prefix.
    openapi_url = escape(app.openapi_url.lstrip("/")) if app.openapi_url else ""
    docs = SWAGGER_UI_PAGE.format(title=escape(f"{app.title} - Swagger UI"), openapi_url=openapi_url)

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return HTMLResponse(docs)

    if ui:
        page = console_page(sign_on)
        origins = ProviderOrigins(sign_on) if sign_on else None

        @app.get("/", include_in_schema=False)
        async def console() -> HTMLResponse:
            if origins is None:
                return HTMLResponse(page)
            # The console's own policy; PagePolicy leaves a route's policy alone. The first load
            # reads the issuer's discovery document, in a thread: the event loop never waits.
            connect = origins.found or await asyncio.to_thread(origins.get)
            return HTMLResponse(page, headers={"Content-Security-Policy": content_security_policy(connect)})

    else:

        @app.get("/", include_in_schema=False)
        async def home(request: Request) -> RedirectResponse:
            # Without the console, the gateway's front page is the API reference.
            return RedirectResponse(request.scope.get("root_path", "") + "/docs")

    app.add_middleware(PagePolicy)


class PagePolicy:
    """Adds the Content-Security-Policy to every HTML answer, whichever route made it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            await send(message)

        await self.app(scope, receive, send_with_policy)
