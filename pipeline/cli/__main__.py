"""``python -m pipeline.cli``: the ``advisory`` command."""

import sys

from pipeline.cli.guard import main

sys.exit(main())
