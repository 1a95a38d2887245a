"""academail: the messaging platform of a French académie.

The package is split as ``docs/architecture.md`` describes: ``core`` at the bottom,
``store`` and ``blobs`` above it, the domain packages (``identity``, ``letters``),
the adapters (``cli``) and ``runtime``, the composition root that wires them.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
