"""pytest plugin: the ``lmstudio_emulator`` fixture."""
