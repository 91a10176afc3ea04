"""scientia: plan experiments, screen, discover equations, curate data — one loop, one ledger."""

import logging

# the library never configures logging; the command line does (scientia.cli.main)
logging.getLogger("scientia").addHandler(logging.NullHandler())
