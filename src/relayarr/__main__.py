"""``python -m relayarr``: the same as the ``relayarr`` console script."""

from relayarr.cli import main

main()
