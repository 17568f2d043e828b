import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
# The PBX agent's unchanged-licence polls and call authorisations are answered before Django's
# stack (pbxportal.agent.wsgi); everything else goes through it.
_django = get_wsgi_application()
from pbxportal.agent.wsgi import AgentFastPath  # noqa: E402  (needs the apps loaded)

application = AgentFastPath(_django)
