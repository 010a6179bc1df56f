"""The todo API: lists of items, with filtering, pagination, partial updates and a log.

One App, assembled from a router per resource, served either way::

    gunicorn -k sync -w 2 examples.todo.app:app     # WSGI
    hypercorn -w 2 examples.todo.app:app.asgi       # ASGI

The handlers are plain ``def`` because ``sqlite3`` blocks: under WSGI they run on the
worker's thread, under ASGI in duoweb's thread pool, never on the event loop.
"""

from duoweb import App
from examples.todo import activity, items, lists
from examples.todo.db import lifespan

app = App(
    title="Todo API",
    version="1.0.0",
    description="Todo lists and their items, stored in SQLite.",
    lifespan=lifespan,
)
app.include_router(lists.router)
app.include_router(items.router)
app.include_router(activity.router)


@app.get("/", summary="Where to start")
def index() -> dict[str, str]:
    """Links to the collections and to the API's documentation."""
    return {
        "lists": app.url_for("list_lists"),
        "activity": app.url_for("list_activity"),
        "docs": app.url_for("docs_page"),
        "openapi": app.url_for("openapi_document"),
    }
