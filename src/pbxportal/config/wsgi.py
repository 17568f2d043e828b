import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbxportal.config.settings")
# An unchanged licence answers its PBX's poll before Django's stack (pbxportal.licensing.wsgi).
_django = get_wsgi_application()
from pbxportal.licensing.wsgi import LicencePollFastPath  # noqa: E402  (needs the apps loaded)

application = LicencePollFastPath(_django)
