"""``python -m academail`` runs the command line."""

from academail.cli import main

__all__: list[str] = []

if __name__ == "__main__":
    main()
