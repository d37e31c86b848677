"""scan terraform and scan config: configuration in files, before it is applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cloudscan.cli.groups import UsageError, scan
from cloudscan.cli.options import on_unreadable_option, organization_id_option, scan_options
from cloudscan.cli.output import before_scan, report_and_exit, selected_policies


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
@organization_id_option
@scan_options
@on_unreadable_option
def scan_terraform(
    paths: tuple[Path, ...], var_files: tuple[Path, ...], plans: tuple[Path, ...], **options: Any
) -> None:
    """Scan Terraform configuration before it is applied.

    PATHS are .tf files or directories (read recursively; each directory is one module).
    Resources come out as the same kinds as a live scan, so the same policies judge them.
    AWS, GCP and Azure resources are read; expressions are evaluated as Terraform does, and
    what cannot be worked out from the files (a variable without a value, a data source) is
    UNKNOWN. A guard the configuration does not declare (S3 Block Public Access) is not
    assumed. Local modules are judged with their callers' arguments. Which AWS Organization
    the account belongs to is not in the files: give it with --organization-id, or bucket
    policies pinned to an organisation are UNKNOWN. A file that cannot be
    read is reported with its line, the other files are still scanned, and the run fails
    (exit 3) unless --on-unreadable warn.

    Orthanc configuration files found below PATHS are judged too (see: scan config).
    """
    from cloudscan.scan import scan_terraform as run_terraform

    if not paths and not plans:
        raise UsageError("give Terraform files or directories to scan, or --plan plan.json")
    before_scan(options, list(paths) or list(plans))
    from cloudscan.inputs import InputError, check_readable
    from cloudscan.providers.terraform.plan import MAX_PLAN_BYTES

    for option, files, limit in (("--var-file", var_files, None), ("--plan", plans, MAX_PLAN_BYTES)):
        for file in files:
            try:
                check_readable(file, *([limit] if limit else []))
            except InputError as exc:
                raise UsageError(f"{option} {file}: {exc}") from None
    policies = selected_policies(options)
    result = run_terraform(
        list(paths),
        policies,
        var_files=var_files,
        plans=plans,
        trusted_accounts=options["trusted_account"],
        organization_ids=options.pop("organization_ids"),
    )
    report_and_exit(result, options)


@scan.command("config")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@scan_options
@on_unreadable_option
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
    before_scan(options, list(paths))
    policies = selected_policies(options)
    report_and_exit(run_config(list(paths), policies), options)
