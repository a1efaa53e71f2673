"""The ``soundy`` command line (typer). Heavy imports stay inside the commands so that
``soundy analyze`` starts fast."""
