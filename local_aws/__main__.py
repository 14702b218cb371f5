"""``python -m local_aws up|down|status|logs|deploy|patches``: see ``local_aws.cli``."""

import sys

from local_aws.cli import main

sys.exit(main())
