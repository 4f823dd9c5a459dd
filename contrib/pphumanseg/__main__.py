import sys

from pphumanseg.cli.main import main

sys.exit(main())
