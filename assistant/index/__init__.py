"""Stage 2: embeddings, the vector index and the published index on disk.

The public API of the published index (building, publishing, loading) is re-exported here:
``from assistant.index import build_index, load_serving_index, ...``.
"""

from assistant.index.build import BuildSummary, Progress, build_index
from assistant.index.builds import (BUILDS, BuildObserver, list_builds, list_indexes, prune, publish,
                                    published_path)
from assistant.index.errors import IndexCorrupt, IndexDiskFull, IndexError_, IndexNotFound
from assistant.index.load import ProductIndex, load_build, load_index, load_serving_index, rollback
from assistant.index.manifest import check_build, read_manifest

__all__ = ["BUILDS", "BuildObserver", "BuildSummary", "IndexCorrupt", "IndexDiskFull", "IndexError_",
           "IndexNotFound", "ProductIndex", "Progress", "build_index", "check_build", "list_builds",
           "list_indexes", "load_build", "load_index", "load_serving_index", "prune", "publish",
           "published_path", "read_manifest", "rollback"]
