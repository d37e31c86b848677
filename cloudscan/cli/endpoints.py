"""scan dicomweb: DICOMweb and DICOM services probed over the network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cloudscan.cli.groups import UsageError, scan
from cloudscan.cli.options import scan_options
from cloudscan.cli.output import before_scan, report_and_exit, selected_policies
from cloudscan.ports import DICOMWEB_BASES, DIMSE_PORTS, listed


@scan.command("dicomweb")
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option(
    "--targets",
    "target_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File of targets, one per line: DICOMweb base URLs and dicom://HOST:PORT[/AET]. "
    "# starts a comment. Repeatable.",
)
@click.option(
    "--from-inventory",
    "inventories",
    multiple=True,
    metavar="REPORT",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A cloudscan JSON report (scan aws --format json): probe the public addresses of "
    f"rules that open DICOM ({listed(DIMSE_PORTS)}) or DICOMweb ports "
    f"({listed(DICOMWEB_BASES)}) to the internet. Repeatable.",
)
@click.option(
    "--dimse",
    "dimse_targets",
    multiple=True,
    metavar="HOST:PORT[/AET]",
    help="A DICOM network service to probe with associations, C-ECHO and a C-FIND that "
    "matches nothing, as an AE title it does not know. AET: the server's called AE "
    "title, needed when it checks it. Never sends a C-STORE. Repeatable.",
)
@click.option(
    "--probe-credentials",
    is_flag=True,
    help="Also try documented default logins (Orthanc orthanc/orthanc, admin/admin) on a "
    "URL that returns no patient data. Off by default: it is a login attempt.",
)
@click.option(
    "--no-stow-probe",
    is_flag=True,
    help="Do not POST to the STOW-RS URL. The probe sends the JSON body {}, which no server "
    "can store, to see whether the store handler asks for a login.",
)
@click.option(
    "--ca-bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="PEM",
    help="CA certificates to trust besides the system's when judging certificates (your internal PKI).",
)
@click.option(
    "--calling-ae",
    default="CLOUDSCAN",
    show_default=True,
    metavar="AET",
    help="Calling AE title of the DIMSE probes: one the server should not know.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.5, 120),
    default=5.0,
    show_default=True,
    help="Seconds to wait for each connection, answer or association.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=32,
    show_default=True,
    help="Endpoints probed at once.",
)
@click.option(
    "--per-host",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Endpoints probed at once on one host.",
)
@scan_options
def scan_dicomweb(
    urls: tuple[str, ...],
    target_files: tuple[Path, ...],
    inventories: tuple[Path, ...],
    dimse_targets: tuple[str, ...],
    probe_credentials: bool,
    no_stow_probe: bool,
    ca_bundle: Path | None,
    calling_ae: str,
    timeout: float,
    concurrency: int,
    per_host: int,
    **options: Any,
) -> None:
    """Probe DICOMweb / PACS endpoints and DICOM services for what they give without a login.

    URL is a DICOMweb base, e.g. https://pacs.example.org/dicom-web (Orthanc) or
    http://host:8080/dcm4chee-arc/aets/DCM4CHEE/rs. Each probe asks about a study that
    cannot exist, so no patient data is fetched and nothing is stored: QIDO-RS search,
    WADO-RS metadata, STOW-RS with a body that cannot be stored, the product's REST API and
    web UI, CORS, plain HTTP and TLS versions and certificate. Only probe servers you are
    allowed to test.
    """
    from cloudscan.providers.dicomweb import TargetError, Targets, read_inventory, read_target_file
    from cloudscan.providers.dicomweb.probe import ProbeOptions
    from cloudscan.providers.dimse import DimseOptions
    from cloudscan.scan import scan_dicomweb as run_dicomweb

    before_scan(options)
    targets = Targets()
    try:
        for url in urls:
            targets.add(url, "argument")
        for text in dimse_targets:
            targets.add(text if "://" in text else f"dicom://{text}", "--dimse")
        for path in target_files:
            read_target_file(path, targets)
        noted = 0
        for path in inventories:
            for note in read_inventory(path, targets):
                noted += 1
                click.echo(f"cloudscan: {note}", err=True)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if not targets and noted:
        raise UsageError(
            f"nothing to probe: the inventory has {noted} rules that open DICOM or PACS ports, "
            "but none names a public address to probe (see above)"
        )
    if not targets:
        raise UsageError(
            "nothing to probe: give URLs, --dimse HOST:PORT, --targets FILE or "
            "--from-inventory REPORT (an inventory with no open DICOM port gives none)"
        )
    if ca_bundle is not None:
        import ssl

        try:
            ssl.create_default_context().load_verify_locations(cafile=str(ca_bundle))
        except (ssl.SSLError, OSError) as exc:
            raise UsageError(f"--ca-bundle {ca_bundle}: not PEM CA certificates ({exc})") from None
    if len(calling_ae) > 16 or not calling_ae.strip():
        raise UsageError("--calling-ae: an AE title has 1 to 16 characters")
    policies = selected_policies(options)
    probe = ProbeOptions(
        timeout=timeout,
        probe_stow=not no_stow_probe,
        probe_credentials=probe_credentials,
        ca_file=str(ca_bundle) if ca_bundle else None,
    )
    result = run_dicomweb(
        targets,
        policies,
        probe=probe,
        dimse=DimseOptions(calling_ae=calling_ae, timeout=timeout),
        concurrency=concurrency,
        per_host=per_host,
    )
    report_and_exit(result, options)
