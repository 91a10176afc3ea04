"""The ``scientia`` command line (Typer + Rich); it parses and renders, the engine does the work."""
