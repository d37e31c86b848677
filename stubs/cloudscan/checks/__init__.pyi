# For mypy only. setuptools installs checks/ as cloudscan.checks ([tool.setuptools.package-dir]),
# and mypy has no such mapping: it checks checks/ as the package `checks`, and this stub tells it
# that cloudscan.checks is that package. checks/ imports its own modules relatively, so only
# imports from outside it come through here.
from checks import *  # noqa: F403
