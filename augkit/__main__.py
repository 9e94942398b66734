import sys

from augkit.cli import main

sys.exit(main())
