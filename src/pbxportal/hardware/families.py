"""The ordering rules of hardware as a service, registered with the PBX app's service-family
registry when the app starts (``HardwareConfig.ready``): HWaaS needs a recurring term (R-HW-1)."""

from __future__ import annotations

from pbxportal.catalog.models import Family
from pbxportal.pbx.services import recurring_term_only, service_requirement

hwaas_recurring_term = service_requirement(Family.HWAAS)(recurring_term_only("R-HW-1"))
