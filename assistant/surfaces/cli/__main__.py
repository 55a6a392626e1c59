"""`python -m assistant.surfaces.cli`: the `aisle` command."""

from assistant.surfaces.cli import main

main()
