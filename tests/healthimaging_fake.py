"""A local server speaking the AWS HealthImaging (`medical-imaging`) REST-JSON routes a scan
reads, for the real boto3 client: moto has no HealthImaging. The routes, parameters, page sizes
and error shapes are those of botocore's service model (data/medical-imaging/2023-07-19):

    GET /datastore                                          ListDatastores
    GET /datastore/{datastoreId}                            GetDatastore
    GET /tags/{resourceArn}                                 ListTagsForResource
    GET /listDICOMImportJobs/datastore/{datastoreId}        ListDICOMImportJobs
    GET /getDICOMImportJob/datastore/{datastoreId}/job/{id} GetDICOMImportJob

Requests must be SigV4-signed, as the service demands; the region comes from the signature's
credential scope, so one server stands for every region. Any other method is refused and
recorded as a write."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from loopback_server import Answer, LoopbackServer

ACCOUNT = "123456789012"
MAX_RESULTS = 50  # ListDatastores and ListDICOMImportJobs take at most this maxResults
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/medical-imaging/aws4_request")
ROUTES = (
    ("ListDatastores", re.compile(r"/datastore")),
    ("GetDatastore", re.compile(r"/datastore/(?P<store>[0-9a-z]{32})")),
    ("ListTagsForResource", re.compile(r"/tags/(?P<arn>.+)")),
    ("ListDICOMImportJobs", re.compile(r"/listDICOMImportJobs/datastore/(?P<store>[0-9a-z]{32})")),
    (
        "GetDICOMImportJob",
        re.compile(r"/getDICOMImportJob/datastore/(?P<store>[0-9a-z]{32})/job/(?P<job>[0-9a-z]+)"),
    ),
)


@dataclass
class Job:
    input_bucket: str
    output_bucket: str
    submitted_at: float = 1_780_000_000.0
    status: str = "COMPLETED"


@dataclass
class Store:
    name: str
    region: str = "us-east-1"
    status: str = "ACTIVE"
    kms_key: str | None = None
    lambda_authorizer: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)

    @property
    def id(self) -> str:
        return hashlib.md5(f"{self.region}/{self.name}".encode()).hexdigest()  # 32 lower-case hex

    @property
    def arn(self) -> str:
        return f"arn:aws:medical-imaging:{self.region}:{ACCOUNT}:datastore/{self.id}"


class HealthImagingFake(LoopbackServer):
    """`stores` to serve; `fail[(operation, region or store name)] = (status, code)` to refuse
    a call; `requests` records (operation, region) of each request; `writes` what was refused."""

    def __init__(self) -> None:
        super().__init__()
        self.stores: list[Store] = []
        self.fail: dict[tuple[str, str], tuple[int, str]] = {}
        self.requests: list[tuple[str, str]] = []
        self.writes: list[str] = []

    def add(self, store: Store) -> Store:
        self.stores.append(store)
        return store

    def handle(self, method: str, path: str, query: dict[str, Any], body: bytes, headers: Any) -> Answer:
        scope = SCOPE.search(headers.get("Authorization") or "")
        if scope is None:
            return _error(403, "AccessDeniedException", "requests must be signed (SigV4)")
        region = scope.group(1)
        if method != "GET":
            self.writes.append(f"{method} {path}")
            return _error(405, "ValidationException", "this fake serves reads only")
        for operation, route in ROUTES:
            match = route.fullmatch(path)
            if match:
                self.requests.append((operation, region))
                return self._answer(operation, region, match.groupdict(), query)
        return _error(404, "UnknownOperationException", "no such route")

    def _answer(self, operation: str, region: str, params: dict[str, str], query: dict[str, Any]) -> Answer:
        if (operation, region) in self.fail:
            return _error(*self.fail[(operation, region)], f"injected for {region}")
        here = [s for s in self.stores if s.region == region]
        if operation == "ListDatastores":
            return _page(query, "datastoreSummaries", [_summary(s) for s in here])
        if "arn" in params:
            found = [s for s in here if s.arn == unquote(params["arn"])]
        else:
            found = [s for s in here if s.id == params["store"]]
        if not found:
            return _error(404, "ResourceNotFoundException", "no such data store")
        store = found[0]
        if (operation, store.name) in self.fail:
            return _error(*self.fail[(operation, store.name)], f"injected for {store.name}")
        if operation == "GetDatastore":
            return _ok({"datastoreProperties": _properties(store)})
        if operation == "ListTagsForResource":
            return _ok({"tags": store.tags})
        jobs = {_job_id(store, i): job for i, job in enumerate(store.jobs)}
        if operation == "ListDICOMImportJobs":
            return _page(query, "jobSummaries", [_job_summary(store, i, j) for i, j in jobs.items()])
        if params["job"] not in jobs:
            return _error(404, "ResourceNotFoundException", "no such import job")
        return _ok({"jobProperties": _job_properties(store, params["job"], jobs[params["job"]])})


def _summary(store: Store) -> dict[str, Any]:
    return {
        "datastoreId": store.id,
        "datastoreName": store.name,
        "datastoreStatus": store.status,
        "datastoreArn": store.arn,
        "createdAt": 1_700_000_000.0,
        "updatedAt": 1_700_000_000.0,
    }


def _properties(store: Store) -> dict[str, Any]:
    out = _summary(store)
    if store.kms_key:
        out["kmsKeyArn"] = store.kms_key
    if store.lambda_authorizer:
        out["lambdaAuthorizerArn"] = store.lambda_authorizer
    return out


def _job_id(store: Store, index: int) -> str:
    return hashlib.md5(f"{store.id}/{index}".encode()).hexdigest()


def _job_summary(store: Store, job_id: str, job: Job) -> dict[str, Any]:
    return {
        "jobId": job_id,
        "jobName": f"import-{job_id[:6]}",
        "jobStatus": job.status,
        "datastoreId": store.id,
        "dataAccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/healthimaging-import",
        "submittedAt": job.submitted_at,
        "endedAt": job.submitted_at + 60,
    }


def _job_properties(store: Store, job_id: str, job: Job) -> dict[str, Any]:
    return {
        **_job_summary(store, job_id, job),
        "inputS3Uri": f"s3://{job.input_bucket}/incoming/",
        "outputS3Uri": f"s3://{job.output_bucket}/results/",
    }


def _page(query: dict[str, Any], key: str, items: list[dict[str, Any]]) -> Answer:
    size = int(query.get("maxResults") or MAX_RESULTS)
    if not 1 <= size <= MAX_RESULTS:
        return _error(400, "ValidationException", f"maxResults must be between 1 and {MAX_RESULTS}")
    start = int(query.get("nextToken") or 0)
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["nextToken"] = str(start + size)
    return _ok(answer)


def _ok(answer: dict[str, Any]) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def _error(status: int, code: str, message: str) -> Answer:
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code}
    return status, headers, json.dumps({"message": message}).encode()
