"""The portal: citizens look up, verify and contest challans; officers review violations.
`create_app(settings)` builds the FastAPI application (challan.web.app)."""

from __future__ import annotations


def __getattr__(name: str):
    if name == "create_app":
        from challan.web.app import create_app

        return create_app
    raise AttributeError(name)
