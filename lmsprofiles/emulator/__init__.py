"""An LM Studio server emulator that the unmodified ``lmstudio`` SDK works against."""
