"""The package version: one place, read by the build and re-exported as `omareview.__version__`."""

__all__ = ["__version__"]

__version__ = "0.2.0"
