"""AWS HealthImaging data stores as `dicom.store` documents.

A data store takes no resource policy: who reads its studies is decided by the IAM policies of
the account's identities, and its API (DICOMweb included) answers SigV4-signed requests, plus
bearer tokens where the store names a Lambda authorizer (whose judgement cannot be read, so
that store's exposure is unknown). What can leave a store's studies open is where they came
from: the S3 buckets its import jobs read from and write to are `copies` of type storage, whose
exposure checks/copies.py folds into the store's once the scan has read them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cloudscan.model import (
    Document,
    leave_out,
    mark_unknown,
    new_resource,
    principal,
    scan_error,
    scan_warning,
)
from cloudscan.model import grant as new_grant
from cloudscan.providers.aws.calls import FAILED, error_of, persist, read
from cloudscan.providers.aws.clients import AwsClients, is_endpoint_override
from cloudscan.providers.aws.permissions import TABLE

SERVICE = "medical-imaging"
# Where HealthImaging is offered (https://docs.aws.amazon.com/general/latest/gr/healthimaging.html):
# a scan without --region reads these. A region given that is not among them is not asked (its
# endpoint name does not resolve: botocore would retry it for most of a minute) but named in a
# warning, so that a region AWS adds later is seen missing from this list; with an endpoint
# override (AWS_ENDPOINT_URL_MEDICAL_IMAGING, an emulator) every region given is asked.
OFFERED_REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "ap-southeast-2")
# Import jobs: at most LISTED_IMPORT_JOBS summaries are listed per store, and the buckets of
# the RECENT_IMPORT_JOBS most recently submitted among them are read (one GetDICOMImportJob
# each: the listing does not carry the S3 URIs). Older imports' buckets are not counted.
LISTED_IMPORT_JOBS = 500
RECENT_IMPORT_JOBS = 20
JOB_PAGE = 50  # the most ListDICOMImportJobs gives in one page
# Blocks of a store document, each filled by its own calls (permissions.py says which).
STORE_FIELDS = TABLE.fields("dicom.store")
# What an endpoint that does not serve HealthImaging answers ListDatastores: HTTP 404 with no
# error of the service's model (moto in-process), or, at an endpoint override, any status with
# no such error (moto_server's HTML 500). Nothing to read there.
NOT_SERVED = 404
AWS_MANAGED_ALIAS = ":alias/aws/"


def list_stores(
    clients: AwsClients, region: str, errors: list[dict[str, Any]], not_offered: list[str]
) -> list[dict[str, Any]]:
    """The data stores of `region` (every page) not deleted. A region where HealthImaging is not
    offered goes to `not_offered` (said once as a warning); any other failure is an error naming
    the region: the stores it holds are not read."""
    client = clients.client(SERVICE, region)
    overridden = is_endpoint_override(client)
    if region not in OFFERED_REGIONS and not overridden:
        # No endpoint there: asking would only retry a name that does not resolve, for a minute.
        not_offered.append(region)
        return []
    # An emulator or a proxy may not serve HealthImaging at all: ask it without long retries.
    lister = clients.first_call_client(SERVICE, region) if overridden else client
    try:
        pages = persist(lambda: list(lister.get_paginator("list_datastores").paginate()))
    except Exception as exc:
        code, message = error_of(exc)
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        modelled = code in {shape.name for shape in client.meta.service_model.error_shapes}
        # An answer that is none of HealthImaging's errors (a 404 route, an HTML error page)
        # comes from something else at that address.
        if not modelled and (status == NOT_SERVED or (overridden and status is not None)):
            not_offered.append(region)
        else:
            said = f"HealthImaging in region {region}: {message}; its data stores were not read"
            errors.append(scan_error(f"{SERVICE}:ListDatastores", code, said, f"region {region}"))
        return []
    return [
        store
        for page in pages
        for store in page.get("datastoreSummaries", [])
        if store.get("datastoreStatus") not in ("DELETED", "DELETING")
    ]


def not_offered_warning(regions: list[str]) -> dict[str, Any]:
    said = ", ".join(sorted(regions))
    message = (
        f"HealthImaging is not offered in {said} (not among the regions cloudscan knows it in, or "
        "not served at this endpoint): no data store read there"
    )
    return scan_warning(f"{SERVICE}:ListDatastores", message)


def describe_store(
    clients: AwsClients,
    summary: dict[str, Any],
    *,
    region: str,
    account: str | None,
    fields: frozenset[str],
) -> Document:
    """One data store as a document; a failed read leaves its fields unknown."""
    client = clients.client(SERVICE, region)
    store_id = summary["datastoreId"]
    arn = summary.get("datastoreArn") or f"arn:aws:medical-imaging:{region}:{account}:datastore/{store_id}"
    doc = new_resource(
        "dicom.store", "aws", arn, name=summary.get("datastoreName"), account=account, region=region
    )
    doc["status"] = summary.get("datastoreStatus")
    # Facts of the service: its endpoints are public and have no CORS setting to open.
    doc["network"] = {"public_network_access": True, "private_endpoints": None}
    doc["cors"] = {"allow_any_origin": False, "allow_credentials": False}
    if fields & {"access", "encryption"}:
        _read_properties(doc, client, store_id, account, fields)
    if "copies" in fields:
        _read_import_buckets(doc, client, store_id)
    if "labels" in fields:
        tags = read(
            doc, f"{SERVICE}:ListTagsForResource", ["/labels"], client.list_tags_for_resource, resourceArn=arn
        )
        if tags is not FAILED:
            doc["labels"] = dict(tags.get("tags") or {})
    leave_out(doc, STORE_FIELDS, fields)
    return doc


def _read_properties(
    doc: Document, client: Any, store_id: str, account: str | None, fields: frozenset[str]
) -> None:
    call = f"{SERVICE}:GetDatastore"
    pointers = [p for f, p in (("access", "/access/policy"), ("encryption", "/encryption")) if f in fields]
    if "access" in fields:
        doc["access"] = _access(account)
    answer = read(doc, call, pointers, client.get_datastore, datastoreId=store_id)
    if answer is FAILED:
        return
    properties = answer.get("datastoreProperties") or {}
    doc["status"] = properties.get("datastoreStatus") or doc["status"]
    key = properties.get("kmsKeyArn")
    # No key named: an AWS owned key. An alias under alias/aws/ is AWS managed, not the customer's.
    customer = isinstance(key, str) and AWS_MANAGED_ALIAS not in key
    doc["encryption"] = {"customer_managed_key": customer, "kms_key": key}
    authorizer = properties.get("lambdaAuthorizerArn")
    if authorizer and "access" in fields:
        message = (
            f"its DICOMweb API also takes bearer tokens that the Lambda authorizer {authorizer} "
            "judges, and whom that function lets in cannot be read"
        )
        mark_unknown(doc, ["/access/policy"], call=call, code="LambdaAuthorizer", message=message)


def _access(account: str | None) -> dict[str, Any]:
    """No resource policy: the account's IAM identities, through signed requests, are who reads."""
    who = f"account {account}" if account else "the store's account"
    origin = (
        f"identity-based IAM policies of {who} (HealthImaging takes no resource policy; its API, "
        "DICOMweb included, answers only SigV4-signed requests)"
    )
    root = f"arn:aws:iam::{account}:root" if account else "the store's account"
    access: dict[str, Any] = {"policy": {"present": False, "statement_count": 0}, "grants": []}
    access["grants"].append(
        new_grant(
            principal("aws", root, account=account),
            ["read", "list", "write"],
            via="policy",
            origin=origin,
            actions=["medical-imaging:*"],
        )
    )
    return access


def _read_import_buckets(doc: Document, client: Any, store_id: str) -> None:
    """The buckets the most recent import jobs read from and wrote to, as copies of type storage."""
    listing = read(doc, f"{SERVICE}:ListDICOMImportJobs", ["/copies"], lambda: _recent_jobs(client, store_id))
    if listing is FAILED:
        return
    roles: dict[str, set[str]] = {}
    for job in listing:
        answer = read(
            doc,
            f"{SERVICE}:GetDICOMImportJob",
            ["/copies"],
            client.get_dicom_import_job,
            datastoreId=store_id,
            jobId=job["jobId"],
        )
        if answer is FAILED:
            return  # a bucket not known: the copies are unknown, never fewer than they are
        job_properties = answer.get("jobProperties") or {}
        for uri_key, role in (("inputS3Uri", "input"), ("outputS3Uri", "output")):
            bucket = _bucket_of(job_properties.get(uri_key))
            if bucket:
                roles.setdefault(bucket, set()).add(role)
    doc["copies"] = [
        {"type": "storage", "target": f"arn:aws:s3:::{bucket}", "role": _role(roles[bucket])}
        for bucket in sorted(roles)
    ]


def _recent_jobs(client: Any, store_id: str) -> list[dict[str, Any]]:
    pages = client.get_paginator("list_dicom_import_jobs").paginate(
        datastoreId=store_id, PaginationConfig={"MaxItems": LISTED_IMPORT_JOBS, "PageSize": JOB_PAGE}
    )
    jobs = [job for page in pages for job in page.get("jobSummaries", [])]
    jobs.sort(key=_submitted, reverse=True)
    return jobs[:RECENT_IMPORT_JOBS]


def _submitted(job: dict[str, Any]) -> float:
    when = job.get("submittedAt")
    return when.timestamp() if isinstance(when, datetime) else 0.0


def _bucket_of(uri: Any) -> str | None:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        return None
    return uri[len("s3://") :].split("/", 1)[0] or None


def _role(roles: set[str]) -> str:
    said = {
        frozenset({"input"}): "the bucket its import jobs read studies from",
        frozenset({"output"}): "the bucket its import jobs write results to",
    }
    return said.get(frozenset(roles), "the bucket its import jobs read studies from and write results to")
