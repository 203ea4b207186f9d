"""Theme mining for Seoul's regional-coexistence advisory rounds."""

__version__ = "0.1.0"
