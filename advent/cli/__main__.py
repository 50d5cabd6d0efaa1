"""`python -m advent.cli`: the same as the `advent` command."""

from advent.cli import main

main()
