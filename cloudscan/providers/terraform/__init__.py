"""Terraform: .tf files (python-hcl2) read into the same resource kinds as the live adapters,
with `source` naming the Terraform address, file and lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cloudscan.model import Document, scan_error
from cloudscan.providers.scan_root import Display, relative_to, scan_root
from cloudscan.providers.terraform import aws, azure, gcp, modules
from cloudscan.providers.terraform.config import Module, load_module
from cloudscan.providers.terraform.files import find_modules
from cloudscan.providers.terraform.plan import load_plan


def enumerate_terraform(
    paths: list[Path],
    errors: list[dict[str, Any]],
    *,
    var_files: tuple[Path, ...] = (),
    plans: tuple[Path, ...] = (),
    display_path: Display | None = None,
) -> Iterator[Document]:
    """Documents for every module (directory) under `paths` and in every saved plan; files that
    cannot be read or parsed go to `errors` with their line, and the others are still scanned.
    `display_path` names files in ids and locations (default: relative to the scan root)."""
    display_path = display_path or relative_to(scan_root(paths or list(plans)))
    found, problems = find_modules(paths)
    roots: list[Module] = []
    for directory, files in sorted(found.items()):
        module, module_problems = load_module(directory, files, list(var_files), display_path(directory))
        problems.extend(module_problems)
        roots.append(module)
    # A directory another one calls is judged through that call, with the caller's arguments.
    called = modules.judged_through_callers(roots)
    loaded: list[Module] = []
    for root in roots:
        if root.directory is not None and root.directory.resolve() in called:
            continue
        tree = [root, *modules.instantiate(root, display_path, problems)]
        for module in tree:
            module.tree = tree
        loaded.extend(tree)
    for plan in plans:
        plan_modules, plan_problems = load_plan(plan, display_path(plan))
        loaded.extend(plan_modules)
        problems.extend(plan_problems)
    for problem in problems:
        where = display_path(Path(problem.file)) + (f":{problem.line}" if problem.line else "")
        errors.append(scan_error("terraform:parse", problem.code, problem.message, where))
    for module in loaded:
        try:
            documents = list(_documents(module))
        except Exception as exc:  # a construct we do not handle must not end the scan
            errors.append(
                scan_error(
                    "terraform:read",
                    type(exc).__name__,
                    f"could not read module {module.path}: {exc}",
                    module.path,
                )
            )
            continue
        yield from documents


def _documents(module: Module) -> Iterator[Document]:
    # Every cloud's mapper has the same readers, named for what they read, as the live
    # adapters have: accounts, buckets, ingress_rules, dicom_stores, snapshots.
    yield from aws.accounts(module)
    yield from aws.buckets(module)
    yield from aws.ingress_rules(module)
    yield from aws.snapshots(module)
    yield from gcp.buckets(module)
    yield from gcp.ingress_rules(module)
    yield from gcp.dicom_stores(module)
    yield from azure.accounts(module)
    yield from azure.buckets(module)
    yield from azure.ingress_rules(module)
    yield from azure.dicom_stores(module)
