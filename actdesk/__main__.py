import sys

from actdesk.cli import main

sys.exit(main())
