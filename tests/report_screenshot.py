"""Write docs/report.png, the screenshot in the README: the HTML report of `cloudscan demo` (a
simulated AWS account built in memory with moto) as headless Chromium shows its first 1600 pixels
at 1280 wide.

    python tests/report_screenshot.py [OUTPUT.png]

Needs the test extras (moto) and chromium (apt-get install chromium).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from chromium import screenshot

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 300_000


def main(output: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="cloudscan-report-") as scratch:
        report = Path(scratch) / "report.html"
        subprocess.run(
            [sys.executable, "-m", "cloudscan", "demo", "--format", "html", "-o", str(report)],
            check=True,
            cwd=ROOT,
        )
        screenshot(report.as_uri(), output, width=1280, height=1600)
    size = output.stat().st_size
    print(f"{output}: {size:,} bytes")
    if size > MAX_BYTES:
        sys.exit(f"{output} is larger than {MAX_BYTES:,} bytes: keep the README's image small")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "report.png")
