"""Stage 3: collaborative-filtering (behavioural) models fitted on interaction logs.

Models, one interface (`CFModel`), made by name with `make_cf_model`: ``user_user`` (the product's source
formula), ``item_item`` (cosine), ``als`` and ``bpr`` (matrix factorisation through the `implicit` library),
``ease`` (closed-form item model), ``blend`` (EASE + item-item + segment popularity) and ``popularity``
(recency-weighted, per segment). Saving publishes a version (`store`); `loading` reads it back.
"""

from assistant.behaviour.blend import Blend
from assistant.behaviour.cold_start import inherit_scores
from assistant.behaviour.errors import ModelCorrupt, ModelFitError
from assistant.behaviour.factorisation import ALS, BPR, ImplicitMF
from assistant.behaviour.factory import cf_model_names, make_cf_model
from assistant.behaviour.interactions import (DAY, EVENT_WEIGHTS, POPULARITY_HALF_LIFE_SHARE, PROFILE_HALF_LIFE_DAYS,
                                              REPURCHASE_NORMAL, Interactions, build_interactions, rating_weight,
                                              repurchase_share)
from assistant.behaviour.linear import EASE
from assistant.behaviour.loading import load_cf_model, load_serving_cf_model
from assistant.behaviour.model import CFModel, Evidence
from assistant.behaviour.neighbours import ItemItemCF, UserUserCF
from assistant.behaviour.popularity import SegmentPopularity
from assistant.behaviour.store import FORMAT_VERSION, MODEL_FILES, check_cf_model, list_versions

__all__ = [
    "ALS", "BPR", "DAY", "EASE", "EVENT_WEIGHTS", "FORMAT_VERSION", "MODEL_FILES", "POPULARITY_HALF_LIFE_SHARE",
    "PROFILE_HALF_LIFE_DAYS", "REPURCHASE_NORMAL", "Blend", "CFModel", "Evidence", "ImplicitMF", "Interactions", "ItemItemCF",
    "ModelCorrupt", "ModelFitError", "SegmentPopularity", "UserUserCF", "build_interactions", "cf_model_names",
    "check_cf_model", "inherit_scores", "list_versions", "load_cf_model", "load_serving_cf_model",
    "make_cf_model", "rating_weight", "repurchase_share",
]
