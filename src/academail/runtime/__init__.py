"""Composition root."""

from academail.runtime.platform import InitReport, Platform, initialise, open_platform

__all__ = ["InitReport", "Platform", "initialise", "open_platform"]
