"""Files shipped inside the package (prompts, vocabularies, segments, the demo store), found through
`importlib.resources` so they are found the same way in a source checkout and in an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from assistant.core.errors import AisleError


class PackageDataMissing(AisleError):
    """A data file of the package is not on disk (e.g. the package was imported from a zip file)."""


def package_path(package: str, *parts: str) -> Path:
    """The on-disk path of a file or folder shipped in `package` (e.g. "assistant.rank", "segments.toml")."""
    target = resources.files(package).joinpath(*parts)
    if not isinstance(target, Path):  # wheels install unpacked; a zipped import would give a zipfile.Path
        raise PackageDataMissing(f"{package}/{'/'.join(parts)} is not a file on disk ({target!r}); "
                                 "install Aisle from its wheel or a source checkout")
    return target
