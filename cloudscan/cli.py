"""The `cloudscan` command line.

Exit codes: 0 no FAIL at or above --fail-on; 1 such findings; 2 usage or configuration error;
3 the scan is incomplete: a file under scan could not be read or a resource could not be judged
(unless --on-unreadable warn), or, with --strict, any result is UNKNOWN.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cloudscan import __version__
from cloudscan.policyset import SEVERITIES, Policy, PolicyErrors, load_policies, select
from cloudscan.ports import DICOMWEB_BASES, DIMSE_PORTS, listed

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE, EXIT_INTERNAL = 0, 1, 2, 3, 4
FORMATS = ("text", "json", "sarif")


class UsageError(click.ClickException):
    exit_code = EXIT_USAGE


def _policy_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--policies",
        "policy_dirs",
        multiple=True,
        type=click.Path(path_type=Path),
        help="Directory or file of extra policies (JSON Schema). Repeatable. Added to the built-in policies.",
    )(fn)
    fn = click.option(
        "--no-builtin-policies", is_flag=True, help="Use only the policies given with --policies."
    )(fn)
    return fn


def _on_unreadable(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--on-unreadable",
        type=click.Choice(["fail", "warn"]),
        default="fail",
        show_default=True,
        help="What a file under scan that cannot be read (a syntax error, a symlink to a device, "
        "a file too large) or a resource cloudscan fails on does to the run: fail (exit 3, "
        "and an error-level alert on that file in SARIF) or warn (a notification only). "
        "Values that are only unknown (a variable without a value) are UNKNOWN either way.",
    )(fn)


def _scan_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="text",
            show_default=True,
            help="Report format: text for people, json for tickets and pipelines, "
            "sarif for GitHub code scanning.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write the report to FILE instead of standard output.",
        ),
        click.option(
            "--fail-on",
            type=click.Choice([*SEVERITIES, "none"]),
            default="low",
            show_default=True,
            help="Exit 1 when a FAIL of this severity or higher is found; 'none' never does.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            help="Exit 3 when any result is UNKNOWN or an input could not be read (incomplete "
            "scan), unless exit 1 applies.",
        ),
        click.option(
            "--only",
            multiple=True,
            metavar="ID",
            help="Run only these policy ids (shell wildcards allowed). Repeatable.",
        ),
        click.option(
            "--skip",
            multiple=True,
            metavar="ID",
            help="Do not run these policy ids (shell wildcards allowed). Repeatable.",
        ),
        click.option(
            "--trusted-account",
            multiple=True,
            metavar="ID",
            help="Account (or S3 canonical user id) whose access is intended, e.g. a vendor's. Repeatable.",
        ),
        click.option(
            "--mute",
            "mute_file",
            type=click.Path(dir_okay=False, path_type=Path),
            help='JSON file of accepted risks ({"mutes": [{"policy", "resource", '
            '"reason", "until"}]}): matching findings are reported as MUTED '
            "with their reason and no longer fail the run.",
        ),
        click.option("--verbose", "-v", is_flag=True, help="Text format: list PASS results too."),
        _policy_options,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _sample_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """How much of each bucket's content a live scan reads (AWS and Google Cloud alike)."""
    for option in reversed(
        [
            click.option(
                "--sample",
                type=click.IntRange(0, 100),
                default=5,
                show_default=True,
                help="Objects per bucket whose first 132 bytes are read to tell DICOM (imaging-looking "
                "keys first). 0 reads no object.",
            ),
            click.option(
                "--deep",
                is_flag=True,
                help="Also read the header (first 64 KiB, no pixels) of sampled DICOM objects to tell "
                "identifiable from de-identified studies. Tag names only are kept, never values.",
            ),
            click.option(
                "--show-object-keys",
                is_flag=True,
                help="Show sampled object keys as they are. By default every part that is not a UID "
                "is hashed, since keys can carry patient names.",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _sampling(sample: int, deep: bool, show_object_keys: bool) -> Any:
    from cloudscan.providers.sampling import Sampling

    return Sampling(size=sample, deep=deep, show_keys=show_object_keys)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="cloudscan")
def cli() -> None:
    """Find medical-imaging archives left open in the cloud.

    cloudscan enumerates buckets, grants and network rules, and probes DICOMweb and DICOM
    endpoints, derives who can reach them, and judges them against JSON-Schema policies for
    public exposure, broad access and weak authentication. It only reads: List, Get, Describe
    and Head calls, and endpoint probes that ask about a study that cannot exist (the STOW-RS
    probe POSTs a body no server can store; default logins only with --probe-credentials).

    \b
    Exit codes:
      0  no FAIL at or above --fail-on
      1  FAIL results at or above --fail-on
      2  usage or configuration error (bad option, malformed policy, no credentials)
      3  incomplete scan: a file under scan could not be read (scan terraform and scan
         config, unless --on-unreadable warn), or, with --strict, UNKNOWN results
      4  internal error (a bug in cloudscan)
    """


@cli.group()
def scan() -> None:
    """Scan a live account, DICOMweb and DICOM endpoints, or Terraform before it is applied."""


@scan.command("aws")
@click.option(
    "--profile",
    help="AWS profile from ~/.aws/config. Default: the standard credential "
    "chain (environment, profile, SSO, instance role).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Region to scan for security groups, and to which buckets are limited. "
    "Repeatable. Default: every region enabled for the account, and all buckets.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=16, show_default=True, help="Parallel API calls."
)
@_sample_options
@_scan_options
def scan_aws(
    profile: str | None,
    regions: tuple[str, ...],
    concurrency: int,
    sample: int,
    deep: bool,
    show_object_keys: bool,
    **options: Any,
) -> None:
    """Scan an AWS account: S3 buckets and EC2 security groups.

    Honours AWS_ENDPOINT_URL and AWS_PROFILE like the AWS CLI. Needs read-only permissions
    (the SecurityAudit managed policy covers them).
    """
    import boto3  # heavy: imported only when an AWS scan runs
    from botocore.exceptions import BotoCoreError

    options["mutes"] = _mutes(options)
    try:
        session = boto3.Session(profile_name=profile)
        credentials = session.get_credentials()
    except BotoCoreError as exc:
        raise UsageError(f"AWS credentials: {exc}") from None
    if credentials is None:
        raise UsageError(
            "no AWS credentials found: set AWS_PROFILE or --profile, AWS_ACCESS_KEY_ID, "
            "or run where an instance or SSO role is available"
        )
    options["sampling"] = _sampling(sample, deep, show_object_keys)
    _run_aws(session, regions, concurrency, options)


@scan.command("gcp")
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="PROJECT",
    help="Project id to scan. Repeatable. Default: the project of the credentials.",
)
@click.option(
    "--organization",
    metavar="ORG",
    help="Scan every active project below this organization id, through its folders.",
)
@click.option(
    "--impersonate-service-account",
    metavar="EMAIL",
    help="Act as this service account (the credentials need roles/iam.serviceAccountTokenCreator on it).",
)
@click.option(
    "--location",
    "locations",
    multiple=True,
    metavar="LOCATION",
    help="Healthcare API location to look for DICOM stores in. Repeatable. Default: every "
    "location the API offers.",
)
@click.option(
    "--anonymous",
    is_flag=True,
    help="Send no credentials: for an emulator or a local test server.",
)
@click.option(
    "--storage-endpoint",
    envvar="STORAGE_EMULATOR_HOST",
    metavar="URL",
    help="Cloud Storage API endpoint (default: Google's). Also read from STORAGE_EMULATOR_HOST.",
)
@click.option(
    "--healthcare-endpoint",
    envvar="CLOUDSCAN_HEALTHCARE_ENDPOINT",
    metavar="URL",
    help="Healthcare API endpoint (env CLOUDSCAN_HEALTHCARE_ENDPOINT).",
)
@click.option(
    "--compute-endpoint",
    envvar="CLOUDSCAN_COMPUTE_ENDPOINT",
    metavar="URL",
    help="Compute API endpoint, without /compute/v1 (env CLOUDSCAN_COMPUTE_ENDPOINT).",
)
@click.option(
    "--resource-manager-endpoint",
    envvar="CLOUDSCAN_RESOURCE_MANAGER_ENDPOINT",
    metavar="URL",
    help="Resource Manager API endpoint (env CLOUDSCAN_RESOURCE_MANAGER_ENDPOINT).",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=16, show_default=True, help="Parallel API calls."
)
@_sample_options
@_scan_options
def scan_gcp(
    projects: tuple[str, ...],
    organization: str | None,
    impersonate_service_account: str | None,
    locations: tuple[str, ...],
    anonymous: bool,
    storage_endpoint: str | None,
    healthcare_endpoint: str | None,
    compute_endpoint: str | None,
    resource_manager_endpoint: str | None,
    concurrency: int,
    sample: int,
    deep: bool,
    show_object_keys: bool,
    **options: Any,
) -> None:
    """Scan Google Cloud projects: Cloud Storage buckets, Healthcare API DICOM stores and VPC
    firewall rules.

    Uses Application Default Credentials (gcloud auth application-default login, or
    GOOGLE_APPLICATION_CREDENTIALS) with the read-only cloud-platform scope. Needs
    roles/iam.securityReviewer and roles/storage.objectViewer (for the content sample) on the
    projects, or roles/viewer; every call is a read.
    """
    from cloudscan.providers.gcp.clients import CredentialsRefused, Endpoints, GcpClients, load_credentials
    from cloudscan.scan import scan_gcp as run_gcp

    if projects and organization:
        raise UsageError("give --project or --organization, not both")
    options["mutes"] = _mutes(options)
    try:
        credentials, default_project = load_credentials(
            anonymous=anonymous, impersonate=impersonate_service_account
        )
    except CredentialsRefused as exc:
        raise UsageError(str(exc)) from None
    if not projects and not organization:
        if default_project is None:
            raise UsageError("no project to scan: give --project or --organization")
        projects = (default_project,)
    endpoints = Endpoints(storage_endpoint, healthcare_endpoint, compute_endpoint, resource_manager_endpoint)
    clients = GcpClients(credentials, endpoints, max_pool=concurrency)
    policies = _policies(options)
    try:
        result = run_gcp(
            clients,
            policies,
            projects=projects,
            organization=organization,
            locations=locations,
            concurrency=concurrency,
            trusted_accounts=options["trusted_account"],
            sampling=_sampling(sample, deep, show_object_keys),
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    _report(result, options)


@scan.command("terraform")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--var-file",
    "var_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A .tfvars file whose values override variable defaults. Repeatable. "
    "terraform.tfvars and *.auto.tfvars are read by themselves.",
)
@click.option(
    "--plan",
    "plans",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A saved plan as JSON (terraform show -json PLANFILE > plan.json): values are "
    "final, variables and count already resolved. Repeatable.",
)
@_scan_options
@_on_unreadable
def scan_terraform(
    paths: tuple[Path, ...], var_files: tuple[Path, ...], plans: tuple[Path, ...], **options: Any
) -> None:
    """Scan Terraform configuration before it is applied.

    PATHS are .tf files or directories (read recursively; each directory is one module).
    Resources come out as the same kinds as a live scan, so the same policies judge them.
    AWS, GCP and Azure resources are read; expressions are evaluated as Terraform does, and
    what cannot be worked out from the files (a variable without a value, a data source) is
    UNKNOWN. A guard the configuration does not declare (S3 Block Public Access) is not
    assumed. Local modules are judged with their callers' arguments. A file that cannot be
    read is reported with its line, the other files are still scanned, and the run fails
    (exit 3) unless --on-unreadable warn.

    Orthanc configuration files found below PATHS are judged too (see: scan config).
    """
    from cloudscan.scan import scan_terraform as run_terraform

    if not paths and not plans:
        raise UsageError("give Terraform files or directories to scan, or --plan plan.json")
    options["mutes"] = _mutes(options)
    from cloudscan.inputs import InputError, check_readable
    from cloudscan.providers.terraform.plan import MAX_PLAN_BYTES

    for option, files, limit in (("--var-file", var_files, None), ("--plan", plans, MAX_PLAN_BYTES)):
        for file in files:
            try:
                check_readable(file, *([limit] if limit else []))
            except InputError as exc:
                raise UsageError(f"{option} {file}: {exc}") from None
    policies = _policies(options)
    result = run_terraform(
        list(paths), policies, var_files=var_files, plans=plans, trusted_accounts=options["trusted_account"]
    )
    _report(result, options)


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
@_scan_options
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

    options["mutes"] = _mutes(options)
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
    policies = _policies(options)
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
    _report(result, options)


@scan.command("config")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@_scan_options
@_on_unreadable
def scan_config(paths: tuple[Path, ...], **options: Any) -> None:
    """Scan PACS server configuration files (Orthanc) before they are deployed.

    A directory holding orthanc.json is one configuration of all its *.json files, merged as
    Orthanc merges them (/etc/orthanc); elsewhere each orthanc*.json file is one, and a .json
    file named on the command line is one when it holds Orthanc settings. // and /* */
    comments are allowed. Each configuration is judged as the HTTP and DICOM endpoints it
    would start, with Orthanc's defaults for what it leaves out, by the same policies as
    scan dicomweb: remote access without authentication, the orthanc/orthanc user Orthanc
    creates when no user is declared, DICOM C-FIND/C-STORE from unknown AE titles, called AE
    not checked, HTTP without TLS, Lua scripts and file writes over the REST API.
    """
    from cloudscan.providers.orthanc_config import find_configs
    from cloudscan.scan import scan_config as run_config

    if not find_configs(list(paths)):
        raise UsageError(
            "no Orthanc configuration found: give a directory holding orthanc.json, "
            "orthanc*.json files, or a .json file with Orthanc settings"
        )
    options["mutes"] = _mutes(options)
    policies = _policies(options)
    _report(run_config(list(paths), policies), options)


def _run_aws(session: Any, regions: tuple[str, ...], concurrency: int, options: dict[str, Any]) -> None:
    from cloudscan.providers.aws import CredentialsRefused
    from cloudscan.scan import scan_aws

    policies = _policies(options)
    try:
        result = scan_aws(
            session,
            policies,
            regions=regions,
            concurrency=concurrency,
            trusted_accounts=options["trusted_account"],
            sampling=options.get("sampling"),
        )
    except CredentialsRefused as exc:
        raise UsageError(f"nothing was scanned: {exc}") from None
    _report(result, options)


def _mutes(options: dict[str, Any]) -> list[dict[str, Any]]:
    """Read the mute file before scanning: a broken one is a configuration error (exit 2)."""
    from cloudscan.mutes import MuteFileError, load_mutes

    if not options.get("mute_file"):
        return []
    try:
        return load_mutes(options["mute_file"])
    except MuteFileError as exc:
        raise UsageError(str(exc)) from None


def _policies(options: dict[str, Any]) -> list[Policy]:
    try:
        policies = load_policies(options["policy_dirs"], builtin=not options["no_builtin_policies"])
    except PolicyErrors as exc:
        raise UsageError(f"invalid policy:\n{exc}") from None
    selected = select(policies, options.get("only", ()), options.get("skip", ()))
    if not selected:
        raise UsageError("no policy left to run: check --only, --skip and --policies")
    return selected


def _report(result: Any, options: dict[str, Any]) -> None:
    from datetime import date

    from cloudscan import report
    from cloudscan.mutes import apply_mutes

    apply_mutes(result.findings, options.get("mutes") or [], date.today())
    result.fail_closed = options.get("on_unreadable") == "fail"

    fmt = report.Format(options["fmt"])
    output: Path | None = options["output"]
    color = output is None and fmt is report.Format.TEXT and sys.stdout.isatty()
    if output is None:
        click.echo(report.render(fmt, result, color=color, verbose=options["verbose"]), nl=False)
    else:
        verbose = options["verbose"]
        _write_atomically(output, lambda stream: report.write(fmt, result, stream, verbose=verbose))
    _summary_line(result)
    sys.exit(exit_code(result, options["fail_on"], options["strict"]))


def _write_atomically(output: Path, write: Callable[[Any], None]) -> None:
    """Write beside `output`, then rename: a reader never sees half a report. What is not a
    regular file (/dev/null, /dev/stdout, a FIFO) is written to as it is, never replaced."""
    import os
    import stat
    import tempfile

    try:
        if output.exists() and not stat.S_ISREG(output.stat().st_mode):
            with open(output, "w", encoding="utf-8") as stream:
                write(stream)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        descriptor, partial = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(descriptor, 0o666 & ~umask)  # as an ordinary new file, not mkstemp's 0600
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                write(stream)
            os.replace(partial, output)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None


def exit_code(result: Any, fail_on: str, strict: bool) -> int:
    from cloudscan.scan import blocking_errors, read_nothing

    if fail_on != "none":
        threshold = SEVERITIES.index(fail_on)
        if any(
            f["status"] == "FAIL" and SEVERITIES.index(f["severity"]) <= threshold for f in result.findings
        ):
            return EXIT_FINDINGS
    if read_nothing(result) or (result.fail_closed and blocking_errors(result)):
        return EXIT_INCOMPLETE
    # Incomplete: a result that could not be judged, or an input that could not be read. A call
    # that failed on a field no selected policy reads leaves nothing unjudged.
    incomplete = result.errors or any(f["status"] == "UNKNOWN" for f in result.findings)
    return EXIT_INCOMPLETE if strict and incomplete else EXIT_OK


def _summary_line(result: Any) -> None:
    from cloudscan.report.escape import escape
    from cloudscan.report.summary import summarise
    from cloudscan.scan import error_count, read_nothing

    errors = error_count(result)
    s = summarise(result.findings, len(result.resources), errors)
    failed = ", ".join(f"{n} {sev}" for sev, n in s["failed_by_severity"].items() if n)
    counts = s["results"]
    click.echo(
        f"cloudscan: {s['resources']} resources, {len(result.policies)} policies: "
        f"{counts['FAIL']} FAIL"
        + (f" ({failed})" if failed else "")
        + f", {counts['UNKNOWN']} UNKNOWN, {counts['PASS']} PASS"
        + (f", {counts['MUTED']} MUTED" if counts["MUTED"] else "")
        + f", {errors} errors",
        err=True,
    )
    nothing = read_nothing(result)
    if nothing:
        click.echo(
            f"cloudscan: nothing could be judged (exit 3): {nothing['call']} {nothing['code']}: "
            f"{escape(str(nothing['message']))[:300]}",
            err=True,
        )


@cli.command()
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Report format."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@click.option("--verbose", "-v", is_flag=True, help="List PASS results too.")
def demo(fmt: str, output: Path | None, verbose: bool) -> None:
    """Scan a small simulated AWS account of imaging archives, no cloud account needed.

    The account is built in memory with moto (pip install 'cloudscan[demo]'): a public PACS
    export bucket holding identifiable DICOM (read with --deep), a teleradiology inbox open to
    every AWS user and another account, a
    research bucket saved by Block Public Access, a locked-down archive, and an Orthanc
    server open to the internet. Exits 0 when the demo ran, whatever it found.
    """
    try:
        from cloudscan.demo import demo_account
    except ImportError as exc:
        raise UsageError(
            f"the demo needs moto ({exc.name} is missing): pip install 'cloudscan[demo]'"
        ) from None
    options: dict[str, Any] = {
        "fmt": fmt,
        "output": output,
        "verbose": verbose,
        "fail_on": "none",
        "strict": False,
        "mute_file": None,
        "trusted_account": (),
        "policy_dirs": (),
        "no_builtin_policies": False,
    }
    from cloudscan.providers.sampling import Sampling

    options["sampling"] = Sampling(size=5, deep=True)
    click.echo(
        "cloudscan demo: scanning a simulated AWS account built in memory with moto "
        "(no cloud account is used; the patient in its studies is fictitious)",
        err=True,
    )
    with demo_account() as (session, regions):
        _run_aws(session, regions, 8, options)


@cli.group("policies")
def policies_group() -> None:
    """List, show and validate policies."""


def _load_for_listing(policy_dirs: tuple[Path, ...], no_builtin: bool) -> list[Policy]:
    return _policies({"policy_dirs": policy_dirs, "no_builtin_policies": no_builtin})


@policies_group.command("list")
@_policy_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
def policies_list(policy_dirs: tuple[Path, ...], no_builtin_policies: bool, fmt: str) -> None:
    """List every policy: id, severity, kind and title."""
    policies = _load_for_listing(policy_dirs, no_builtin_policies)
    if fmt == "json":
        click.echo(json.dumps([_policy_summary(p) for p in policies], indent=2))
        return
    width = max(len(p.id) for p in policies)
    for p in policies:
        click.echo(f"{p.id:<{width}}  {p.severity:<8}  {p.kind:<17}  {p.meta['title']}")


@policies_group.command("show")
@click.argument("policy_id")
@_policy_options
def policies_show(policy_id: str, policy_dirs: tuple[Path, ...], no_builtin_policies: bool) -> None:
    """Print one policy file, metadata and schema, as JSON."""
    for policy in _load_for_listing(policy_dirs, no_builtin_policies):
        if policy.id == policy_id:
            click.echo(json.dumps(policy.schema, indent=2))
            return
    raise UsageError(f"no policy with id {policy_id!r} (see: cloudscan policies list)")


@policies_group.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def policies_validate(paths: tuple[Path, ...]) -> None:
    """Validate policy files: JSON, metadata, JSON Schema, unique ids, and that every
    property path exists in the kind's schema. Without PATHS, validates the built-in set;
    with PATHS, validates them together with the built-in set (ids must not clash)."""
    policies = _policies({"policy_dirs": paths, "no_builtin_policies": False})
    click.echo(f"{len(policies)} policies valid")


def _policy_summary(p: Policy) -> dict[str, Any]:
    return {
        "id": p.id,
        "severity": p.severity,
        "category": p.meta["category"],
        "kind": p.kind,
        "providers": p.providers,
        "title": p.meta["title"],
        "file": p.file,
    }


def main() -> None:
    try:
        cli.main(prog_name="cloudscan", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except Exception:  # a bug: never let it pass for "findings" (1) or "clean" (0)
        import traceback

        traceback.print_exc()
        click.echo("cloudscan: internal error (exit 4): please report it with the traceback above", err=True)
        sys.exit(EXIT_INTERNAL)
