"""`python -m assistant`: the same command line as `aisle`."""

from assistant.surfaces.cli import main

if __name__ == "__main__":
    main(prog_name="aisle")
