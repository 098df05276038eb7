"""Allow ``python -m kosmo_clicksend``."""

import sys

from .cli import main

sys.exit(main())
