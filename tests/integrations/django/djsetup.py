"""Configures Django (once per process) with the test project in ``djproject/``."""

from __future__ import annotations

import sys
from pathlib import Path

from frameworks import require

django = require("django")

from django.conf import settings  # noqa: E402

_PROJECT = Path(__file__).resolve().parent
if str(_PROJECT) not in sys.path:  # the djproject package, whatever pytest's import mode
    sys.path.insert(0, str(_PROJECT))
if not settings.configured:
    import djproject.settings as project_settings

    settings.configure(
        **{name: getattr(project_settings, name) for name in dir(project_settings) if name.isupper()}
    )
    django.setup()
