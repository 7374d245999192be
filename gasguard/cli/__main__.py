"""``python -m gasguard.cli``."""

import sys

from gasguard.cli import main

sys.exit(main())
