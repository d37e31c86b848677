"""Time `cloudscan scan azure` over N storage accounts with 5 containers each and N/4 network
security groups, served by the tests' local Resource Manager server.

    python benchmarks/azure_scan.py 200

Fills the server (a third of the accounts allow public containers, a fifth of the containers
are public, every NSG opens DICOM to the internet), runs the CLI in a child process with
--arm-endpoint and --sample 0 (Azurite would measure Node, not cloudscan), and prints wall
time, the scan's peak RSS and Resource Manager requests per container. A benchmark, not a
test: nothing here asserts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from arm_fake import ArmFake
from azure_world import World

CONTAINERS = 5


def fill(world: World, accounts: int) -> None:
    spec: dict[str, dict[str, object]] = {"accounts": {}, "nsgs": {}}
    for i in range(accounts):
        containers = {
            f"studies{j}": {"access": "Blob" if (i * CONTAINERS + j) % 5 == 0 else "None"}
            for j in range(CONTAINERS)
        }
        spec["accounts"][f"pacs{i:05d}"] = {"allow_public": i % 3 == 0 or None, "containers": containers}
    for i in range(max(1, accounts // 4)):
        rules = [
            {"name": "dicom", "priority": 100, "source": "Internet", "port": "104"},
            {"name": "web", "priority": 110, "source": "10.0.0.0/8", "port": "443"},
        ]
        spec["nsgs"][f"pacs-nsg-{i:04d}"] = {"rules": rules, "public_ips": [f"20.0.{i // 250}.{i % 250}"]}
    world.build(spec)


def main(sizes: list[int]) -> None:
    for n in sizes:
        with ArmFake() as fake, tempfile.TemporaryDirectory() as tmp:
            world = World(fake)
            fill(world, n)
            before = len(fake.requests)
            # The child process is the real CLI; only its credential loader is swapped for a fake
            # token, which the local server accepts (there is no Entra ID to sign in to here).
            env = {**os.environ, "CLOUDSCAN_ARM_ENDPOINT": fake.url}
            command = [
                "/usr/bin/time",
                "-f",
                "%e %M",
                sys.executable,
                "-c",
                "import sys, arm_fake, cloudscan.providers.azure.clients as c;"
                "c.load_credential = lambda tenant=None: arm_fake.FakeCredential();"
                "from cloudscan.cli import main; sys.argv = ['cloudscan'] + sys.argv[1:]; main()",
                "scan",
                "azure",
                "--subscription",
                world.subscription,
                "--sample",
                "0",
                "--format",
                "json",
                "-o",
                str(Path(tmp) / "report.json"),
                "--fail-on",
                "none",
            ]
            env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent / "tests")
            done = subprocess.run(command, env=env, capture_output=True, text=True)
            wall, rss = done.stderr.strip().splitlines()[-1].split()
            requests = len(fake.requests) - before
            print(
                f"{n} accounts, {n * CONTAINERS} containers, {max(1, n // 4)} NSGs: {float(wall):.1f} s, "
                f"peak RSS {int(rss) / 1024:.0f} MiB, {requests} ARM requests "
                f"({requests / (n * CONTAINERS):.2f} per container), exit {done.returncode}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [200])
