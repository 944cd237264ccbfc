"""The HTTP API: an app factory, one blueprint per resource."""

from __future__ import annotations

import atexit
import dataclasses
import logging
from typing import Any

from flask import Blueprint as FlaskBlueprint
from flask import Flask, current_app
from flask_smorest import Api

from app.api.errors import register_error_handlers
from app.api.guard import SECURITY_SCHEME, WRITE_KEY_SCHEME
from app.api.guard import install as install_guard
from app.api.lookup_fast_path import LookupFastPath
from app.api.request_bodies import RequestBodies
from app.config import Config
from app.console import install as install_console
from app.logs import install_request_ids
from app.metrics import Metrics
from app.metrics import install as install_metrics
from app.resources import Resources, connect
from graph.ingest.segment_messages import CALL_TYPES
from graph.store import GraphStore

__all__ = ["create_app", "resources"]

logger = logging.getLogger(__name__)

API_VERSION = "v1"


def create_app(
    config: Config | None = None,
    *,
    resources: Resources | None = None,
    test_config: dict[str, Any] | None = None,
) -> Flask:
    """Build the Flask app.

    ``resources`` are the process's open store and Redis (the CLI's ``serve``
    hands them over). Without them the app connects at creation time to the
    configured servers; the embedded store must then already run
    (``idgraph store start``).
    """
    config = config or Config.load()
    app = Flask("idgraph", static_folder=None)  # assets: the "assets" blueprint below
    app.config.update(
        API_TITLE="idgraph",
        API_VERSION=API_VERSION,
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Swagger UI from files shipped in the package (npm swagger-ui-dist, pinned in
        # package.json; tests/unit/test_assets.py keeps the copies equal): /docs works
        # offline. No validator badge: it would call validator.swagger.io.
        OPENAPI_SWAGGER_UI_URL="/static/swagger-ui/",
        OPENAPI_SWAGGER_UI_CONFIG={"persistAuthorization": True, "validatorUrl": None},
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        JSON_SORT_KEYS=False,
    )
    app.config.update(test_config or {})
    if resources is None:
        resources = connect(config)
        atexit.register(resources.close)
    elif resources.config != config:
        # the app's settings win; the open connections are shared
        resources = dataclasses.replace(resources, config=config)
    app.extensions["idgraph"] = resources
    app.register_blueprint(  # app/api/static/ at /static/ (Swagger UI's files)
        FlaskBlueprint("assets", __name__, static_folder="static", static_url_path="/static")
    )
    install_request_ids(app)
    _one_snapshot_per_request(app, resources.store)
    install_metrics(app, Metrics(resources))

    api = Api(
        app,
        spec_kwargs={
            "info": {
                "description": "Identity resolution: events in, one profile per customer out. "
                "Every error has the shape {code, status, message, errors?}."
            }
        },
    )
    register_error_handlers(app, api)
    api.spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`idgraph keys create`), sent as "
            "`Authorization: Bearer KEY`. Each operation lists the scope it needs.",
        },
    )
    api.spec.components.security_scheme(
        WRITE_KEY_SCHEME,
        {
            "type": "http",
            "scheme": "basic",
            "description": "The same API key as a Segment write key: the HTTP Basic user "
            "name, no password (what Segment's and RudderStack's clients send).",
        },
    )

    from app.api import (
        access,
        collect,
        events,
        exports,
        health,
        households,
        identifiers,
        model,
        profiles,
        quarantine,
        resolution,
        rfm,
        segments,
    )

    api.register_blueprint(health.blp)
    api.register_blueprint(events.blp, url_prefix=f"/{API_VERSION}/events")
    api.register_blueprint(identifiers.blp, url_prefix=f"/{API_VERSION}/identifiers")
    api.register_blueprint(profiles.blp, url_prefix=f"/{API_VERSION}/profiles")
    api.register_blueprint(quarantine.blp, url_prefix=f"/{API_VERSION}/quarantine")
    api.register_blueprint(segments.blp, url_prefix=f"/{API_VERSION}/segments")
    api.register_blueprint(exports.blp, url_prefix=f"/{API_VERSION}/exports")
    api.register_blueprint(rfm.blp, url_prefix=f"/{API_VERSION}/rfm")
    api.register_blueprint(model.blp, url_prefix=f"/{API_VERSION}/model")
    api.register_blueprint(resolution.blp, url_prefix=f"/{API_VERSION}/resolve")
    api.register_blueprint(households.blp, url_prefix=f"/{API_VERSION}/households")
    api.register_blueprint(access.blp, url_prefix=f"/{API_VERSION}")
    api.register_blueprint(collect.blp, url_prefix=f"/{API_VERSION}")
    install_console(app)  # the web console at / (app/console/)
    app.wsgi_app = RequestBodies(  # type: ignore[method-assign]
        app.wsgi_app,
        limit=config.max_request_bytes,
        json_paths=frozenset(f"/{API_VERSION}/{call}" for call in ("batch", *CALL_TYPES)),
    )
    install_guard(app)
    app.wsgi_app = LookupFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def resources() -> Resources:
    """The open store, Redis and registry of this process (inside a request)."""
    res: Resources = current_app.extensions["idgraph"]
    return res


def metrics() -> Metrics:
    """This process's metrics (inside a request)."""
    counted: Metrics = current_app.extensions["idgraph_metrics"]
    return counted


def _one_snapshot_per_request(app: Flask, store: GraphStore) -> None:
    """A request reads the revisions of cached records (API keys, segments) once,
    together (:meth:`graph.store.runner.StoreRunner.begin_snapshot`)."""

    @app.before_request
    def begin() -> None:
        store.begin_snapshot()

    @app.teardown_request
    def end(_: BaseException | None) -> None:
        store.end_snapshot()
