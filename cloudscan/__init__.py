"""cloudscan: find medical-imaging archives left open in the cloud."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cloudscan")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
