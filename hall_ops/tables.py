"""Every table of the hall, registered in one place.

Importing this module imports each bounded context's models, so
``metadata`` holds the whole schema: what ``Database.create_all`` creates
and what schema migrations compare against.
"""

from __future__ import annotations

from hall_ops import printing as printing_models
from hall_ops.archive import models as archive_models
from hall_ops.audit import models as audit_models
from hall_ops.cases import models as cases_models
from hall_ops.db import Base
from hall_ops.evaluation import models as evaluation_models
from hall_ops.floor import models as floor_models
from hall_ops.forms import drafts as forms_drafts
from hall_ops.forms import spec as forms_spec
from hall_ops.licences import models as licences_models
from hall_ops.queue import models as queue_models
from hall_ops.region import models as region_models
from hall_ops.runtime import models as runtime_models
from hall_ops.screens import models as screens_models
from hall_ops.staff import models as staff_models
from sensors import models as sensors_models
from zones import models as zones_models

CONTEXTS = (
    zones_models, queue_models, cases_models, floor_models, sensors_models, staff_models,
    runtime_models, forms_spec, forms_drafts, archive_models, licences_models,
    evaluation_models, screens_models, audit_models, printing_models, region_models,
)
"""The model modules, in the order their tables depend on each other."""

metadata = Base.metadata
