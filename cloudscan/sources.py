"""One contract for every source of resources: a live cloud, Terraform, PACS configuration
files, probed endpoints.

A source is told what to read when it is made, then yields documents; what fails for the
whole scan (a listing denied, a file not read) goes to the error sink as values, and what
fails for one resource is recorded in that resource. `cloudscan.scan.scan` runs any of them.
A new cloud is one more class here and a package under `cloudscan/providers/`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cloudscan.model import Document, ErrorSink, scan_error


class Source(Protocol):
    """Where resources come from. `name` is the report's `scan.source`."""

    name: str

    def documents(self, errors: ErrorSink) -> Iterator[Document]: ...


@dataclass
class AwsSource:
    """An AWS account through an injected boto3 session."""

    session: Any
    scope: Any  # providers.aws.AwsScope
    name: str = "aws"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.aws import enumerate_aws

        return enumerate_aws(self.session, self.scope, errors)


@dataclass
class AwsOrganizationSource:
    """Accounts of an AWS Organization, each through a role assumed from `session`'s account."""

    session: Any
    scope: Any  # providers.aws.AwsScope, for every account
    members: list[Any]  # providers.aws.organization.Member, chosen beforehand
    access: Any  # providers.aws.assume.RoleAccess
    parallel: int = 4
    watch: Any = None  # called with each member account's session
    name: str = "aws"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.aws.organization import enumerate_organization

        return enumerate_organization(
            self.session,
            self.scope,
            self.members,
            self.access,
            errors,
            parallel=self.parallel,
            watch=self.watch,
        )


@dataclass
class GcpSource:
    """Google Cloud projects through injected credentials (providers.gcp.clients.GcpClients)."""

    clients: Any
    scope: Any  # providers.gcp.GcpScope
    name: str = "gcp"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.gcp import enumerate_gcp

        return enumerate_gcp(self.clients, self.scope, errors)


@dataclass
class AzureSource:
    """Azure subscriptions through an injected credential (providers.azure.clients.AzureClients)."""

    clients: Any
    scope: Any  # providers.azure.AzureScope
    name: str = "azure"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.azure import enumerate_azure

        return enumerate_azure(self.clients, self.scope, errors)


@dataclass
class TerraformSource:
    """Terraform directories and files, saved plans, and the Orthanc configurations below the
    paths (so the GitHub Action covers them)."""

    paths: list[Path]
    var_files: tuple[Path, ...] = ()
    plans: tuple[Path, ...] = ()
    name: str = "terraform"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.orthanc_config import enumerate_configs
        from cloudscan.providers.scan_root import relative_to, scan_root
        from cloudscan.providers.terraform import enumerate_terraform

        display = relative_to(scan_root(self.paths or list(self.plans)))
        found = 0
        for doc in itertools.chain(
            enumerate_terraform(
                self.paths, errors, var_files=self.var_files, plans=self.plans, display_path=display
            ),
            enumerate_configs(self.paths, errors, display),
        ):
            found += 1
            yield doc
        if (
            not found
            and not errors
            and not any(f for p in self.paths if p.is_dir() for f in p.rglob("*.tf*"))
        ):
            below = ", ".join(map(str, self.paths))
            errors.append(
                scan_error(
                    "terraform:find",
                    "NothingToScan",
                    f"no Terraform file (.tf, .tf.json), plan or Orthanc configuration below {below}",
                )
            )


@dataclass
class ConfigSource:
    """PACS server configuration files (Orthanc) only."""

    paths: list[Path]
    name: str = "config"

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.orthanc_config import enumerate_configs
        from cloudscan.providers.scan_root import relative_to, scan_root

        return enumerate_configs(self.paths, errors, relative_to(scan_root(self.paths)))


@dataclass
class EndpointSource:
    """DICOMweb URLs and DIMSE services, probed without credentials unless asked. A probe's
    failure belongs to its endpoint: nothing goes to the scan-wide sink."""

    targets: Any  # providers.dicomweb.Targets
    probe: Any = None  # providers.dicomweb.probe.ProbeOptions
    dimse: Any = None  # providers.dimse.DimseOptions
    concurrency: int = 32
    per_host: int = 2
    name: str = field(default="dicomweb")

    def documents(self, errors: ErrorSink) -> Iterator[Document]:
        from cloudscan.providers.dicomweb import enumerate_endpoints
        from cloudscan.providers.dicomweb.probe import ProbeOptions
        from cloudscan.providers.dimse import DimseOptions

        return enumerate_endpoints(
            self.targets,
            self.probe or ProbeOptions(),
            self.dimse or DimseOptions(),
            concurrency=self.concurrency,
            per_host=self.per_host,
        )
