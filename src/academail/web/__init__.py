"""The web adapter: portal, self-service, single sign-on (and later webmail, desk, console)."""

from academail.web.app import create_app

__all__ = ["create_app"]
