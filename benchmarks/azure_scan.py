"""Time `cloudscan scan azure` over N storage accounts with 5 containers each and N/4 network
security groups, served by the tests' local Resource Manager server.

    python benchmarks/azure_scan.py 200
    python benchmarks/azure_scan.py --data-plane 200
    python benchmarks/azure_scan.py --inventory 200

Fills the server (a third of the accounts allow public containers, a fifth of the containers
are public, every NSG opens DICOM to the internet), runs the CLI in a child process with
--arm-endpoint and --sample 0, and prints wall time, the scan's peak RSS and requests per
container. A benchmark, not a test: nothing here asserts.

By default the accounts have no blob endpoint: the identity of a scan with `Reader` alone, whose
containers are listed through Resource Manager. With --data-plane every account's blobs are in
one Azurite (https, --oauth basic) and the scan's token passes there as Storage Blob Data Reader
does: containers are listed through the data plane, and Get Container ACL is refused once per
account. Azurite's own time is then in the wall time, so compare requests more than seconds.
With --inventory the scan runs with --source inventory: what Resource Manager lists comes from
the server's Resource Graph route, whose queries are counted apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from arm_fake import ArmFake  # noqa: E402
from azure_world import World  # noqa: E402
from azurite import azurite_blob, require_azurite  # noqa: E402
from http_fronts import make_certificates  # noqa: E402

CONTAINERS = 5
DATA_PLANE = "DATA-PLANE-REQUESTS"

# The child is the real CLI; only its credential loader is swapped for a fake token, which the
# local servers accept (there is no Entra ID to sign in to here). With a data plane it also
# counts the requests sent to it, from inside the process that sends them.
CHILD = """
import atexit, sys, arm_fake, azurite, cloudscan.providers.azure.clients as c
blob = {blob!r}
token = azurite.entra_like_token() if blob else "arm-fake-token"
c.load_credential = lambda tenant=None: arm_fake.FakeCredential(token)
if blob:
    from azure.core.pipeline.transport import RequestsTransport
    sent, send = [], RequestsTransport.send
    def counting(self, request, **kwargs):
        sent.append(request.url.startswith(blob))
        return send(self, request, **kwargs)
    RequestsTransport.send = counting
    atexit.register(lambda: print({marker!r}, sum(sent), file=sys.stderr))
from cloudscan.cli import main
sys.argv = ['cloudscan'] + sys.argv[1:]
main()
"""


def fill(world: World, accounts: list[str], data_plane: bool) -> None:
    spec: dict[str, dict[str, object]] = {"accounts": {}, "nsgs": {}}
    for i, name in enumerate(accounts):
        containers = {
            f"studies{j}": {"access": "Blob" if (i * CONTAINERS + j) % 5 == 0 else "None"}
            for j in range(CONTAINERS)
        }
        account: dict[str, object] = {"allow_public": i % 3 == 0 or None, "containers": containers}
        if data_plane:
            account["data_plane"] = "azurite"
        spec["accounts"][name] = account
    for i in range(max(1, len(accounts) // 4)):
        rules = [
            {"name": "dicom", "priority": 100, "source": "Internet", "port": "104"},
            {"name": "web", "priority": 110, "source": "10.0.0.0/8", "port": "443"},
        ]
        spec["nsgs"][f"pacs-nsg-{i:04d}"] = {"rules": rules, "public_ips": [f"20.0.{i // 250}.{i % 250}"]}
    world.build(spec)


def run(n: int, data_plane: bool, inventory: bool = False) -> None:
    accounts = [f"pacs{i:05d}" for i in range(n)]
    with ExitStack() as stack:
        fake = stack.enter_context(ArmFake())
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        env = {**os.environ, "CLOUDSCAN_ARM_ENDPOINT": fake.url}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "tests")])  # this tree's code
        azurite = None
        if data_plane:
            require_azurite()
            certificates = make_certificates(tmp)
            azurite = stack.enter_context(
                azurite_blob(accounts=tuple(accounts), certificates=certificates, oauth=True)
            )
            env["REQUESTS_CA_BUNDLE"] = str(certificates.ca)
        world = World(fake, azurite=azurite)
        fill(world, accounts, data_plane)
        before = len(fake.requests)
        blob = azurite.url_of("") if azurite else ""
        command = [
            "/usr/bin/time",
            "-f",
            "%e %M",
            sys.executable,
            "-c",
            CHILD.format(blob=blob, marker=DATA_PLANE),
            "scan",
            "azure",
            "--subscription",
            world.subscription,
            "--sample",
            "0",
            "--format",
            "json",
            "-o",
            str(tmp / "report.json"),
            "--fail-on",
            "none",
            *(["--source", "inventory"] if inventory else []),
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        lines = done.stderr.strip().splitlines()
        wall, rss = lines[-1].split()
        counted = [line.split()[1] for line in lines if line.startswith(DATA_PLANE)]
        blob_requests = int(counted[0]) if counted else 0
        graph = sum(1 for method, _, _ in fake.requests[before:] if method == "POST")
        arm = len(fake.requests) - before - graph
        total = n * CONTAINERS
        print(
            f"{n} accounts, {total} containers, {max(1, n // 4)} NSGs"
            f"{', data plane' if data_plane else ''}{', Resource Graph' if inventory else ''}: "
            f"{float(wall):.1f} s, peak RSS {int(rss) / 1024:.0f} MiB, "
            f"{arm} ARM requests ({arm / total:.2f} per container), {graph} Resource Graph queries, "
            f"{blob_requests} data-plane requests ({blob_requests / total:.2f} per container), "
            f"exit {done.returncode}"
        )


def main(args: list[str]) -> None:
    flags = {"--data-plane", "--inventory"}
    for n in [int(a) for a in args if a not in flags] or [200]:
        run(n, "--data-plane" in args, "--inventory" in args)


if __name__ == "__main__":
    main(sys.argv[1:])
