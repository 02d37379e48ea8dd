"""The API's routers, one module per topic, each under :data:`PREFIX`."""

PREFIX = "/api/v1"
"""Where every route of the API lives (the app adds each router's routes to its own, not through
``include_router``: an included router costs FastAPI a second search of its routes per request)."""
