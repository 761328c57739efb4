"""``python -m storedb``: the command line."""

from .cli import main

main()
