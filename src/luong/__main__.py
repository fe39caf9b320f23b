"""`python -m luong …` is the `luong` command."""

import sys

from luong.cli.main import main

sys.exit(main())
