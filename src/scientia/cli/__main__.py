"""``python -m scientia.cli`` runs the ``scientia`` command."""

from scientia.cli.main import main

main()
