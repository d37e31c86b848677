"""Rate limits: --max-rate N holds each service to N requests a second however many threads ask,
and a cloud that throttles slows the scan down without turning into errors or UNKNOWN results.
Every request counts, retries included, in all three clouds."""

from __future__ import annotations

import threading
import urllib.request
from collections import Counter

import aws_world
import boto3
import pytest
from arm_fake import ArmFake, FakeCredential
from google.auth.credentials import AnonymousCredentials
from google_fake import GoogleFake
from throttled_moto import ThrottledMoto, most_in_any_window

from cloudscan.providers.aws import calls
from cloudscan.providers.aws.clients import AwsClients
from cloudscan.providers.pacing import Pacing, RateLimiter
from cloudscan.scan import scan_aws, scan_azure, scan_gcp


class FakeClock:
    """Time that moves only when a limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


class RecordingPacing(Pacing):
    """Pacing that also counts the requests it let through, by the name it limits them under."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.waited: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def wait(self, service: str) -> None:
        with self._count_lock:
            self.waited[service] += 1
        super().wait(service)


# -- the token bucket --------------------------------------------------------------------------


def test_a_limiter_spaces_requests_at_its_rate():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=lambda: clock.now, sleep=clock.sleep)
    for _ in range(5):
        limiter.acquire()
    assert clock.slept == [0.1, 0.1, 0.1, 0.1]  # the first token was there


def test_waiting_threads_reserve_turns_one_after_another():
    # Sleeps that do not move the clock: each caller reserves the next free turn.
    limiter = RateLimiter(4, clock=lambda: 0.0, sleep=lambda s: None)
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.25, 0.5, 0.75]


def test_an_idle_limiter_saves_up_only_its_burst():
    clock = FakeClock()
    limiter = RateLimiter(2, burst=3, clock=lambda: clock.now, sleep=clock.sleep)
    clock.now += 60  # a minute of silence
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


def test_threads_sharing_a_limiter_each_get_a_turn_of_their_own():
    # A clock that stands still: every acquire reserves the next turn, whichever thread asks.
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(round(seconds, 6))

    limiter = RateLimiter(50, clock=lambda: 0.0, sleep=sleep)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(25)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 200 requests at 50 a second: the first at once, then one turn every 20 ms, none shared.
    assert sorted(waits) == [round(i / 50, 6) for i in range(1, 200)]


def test_each_service_has_its_own_limit_and_no_limit_never_waits():
    pacing = Pacing(max_rate=1000)
    pacing.wait("s3")
    pacing.wait("ec2")
    assert set(pacing._limiters) == {"s3", "ec2"}
    unlimited = Pacing()
    unlimited.wait("s3")
    assert unlimited._limiters == {}


@pytest.mark.parametrize("bad", [{"max_rate": 0}, {"max_rate": -1}, {"max_attempts": 0}])
def test_pacing_refuses_nonsense(bad):
    with pytest.raises(ValueError):
        Pacing(**bad)


# -- AWS ---------------------------------------------------------------------------------------


def test_aws_clients_retry_in_adaptive_mode_with_the_attempts_asked():
    clients = AwsClients(aws_world.session(), pacing=Pacing(max_attempts=5))
    retries = clients.client("s3").meta.config.retries
    assert retries["mode"] == "adaptive" and retries["total_max_attempts"] == 5


WORLD = {
    "buckets": {
        "pacs-public": {"acl": "public-read"},
        "pacs-private": {"block_public_access": True, "encryption": "aws:kms", "versioning": True},
    }
}


def slow_down(times: int, answer: dict):
    """A call that S3 throttles `times` times after botocore's own retries, then answers."""
    from botocore.exceptions import ClientError

    left = [times]

    def call(**_):
        if left[0] > 0:
            left[0] -= 1
            error = {"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}
            raise ClientError(error, "GetBucketAcl")
        return answer

    return call


def test_a_read_throttled_past_botocores_retries_backs_off_and_is_sent_again(monkeypatch):
    monkeypatch.setattr(calls, "THROTTLED_PAUSE", 0.0)
    doc = {"_meta": {"unknown": [], "errors": []}}
    answer = calls.read(
        doc, "s3:GetBucketAcl", ["/access/acl"], slow_down(calls.THROTTLED_ROUNDS, {"Grants": []})
    )
    assert answer == {"Grants": []}
    assert doc["_meta"] == {"unknown": [], "errors": []}


def test_a_read_throttled_for_good_is_unknown_in_the_end(monkeypatch):
    monkeypatch.setattr(calls, "THROTTLED_PAUSE", 0.0)
    doc = {"_meta": {"unknown": [], "errors": []}}
    answer = calls.read(doc, "s3:GetBucketAcl", ["/access/acl"], slow_down(calls.THROTTLED_ROUNDS + 1, {}))
    assert answer is calls.FAILED
    assert doc["_meta"]["unknown"] == ["/access/acl"]
    assert doc["_meta"]["errors"][0]["code"] == "SlowDown"


def test_every_aws_request_waits_its_turn_retries_included(guard, builtin_policies):
    from botocore.awsrequest import AWSResponse

    aws_world.build(WORLD)
    pacing = RecordingPacing(max_rate=1000)
    session = guard.session()
    failed = []

    def fail_once(request, **_):
        # A moment's failure, not throttling: botocore retries it at once (a SlowDown would also
        # slow the client down for seconds in adaptive mode).
        if not failed:
            failed.append(request.url)
            body = b"<Error><Code>InternalError</Code><Message>try again</Message></Error>"
            return AWSResponse(request.url, 500, {}, aws_world._Raw(body))
        return None

    sent = Counter()
    session.events.register_first("before-send.s3.GetBucketAcl", fail_once)
    # Ahead of that failure: every S3 request that leaves, the failed one included.
    session.events.register_first("before-send.s3", lambda **_: sent.update(["s3"]))

    result = scan_aws(session, builtin_policies, regions=(aws_world.REGION,), pacing=pacing)

    assert len(failed) == 1
    assert result.errors == []
    assert not [f for f in result.findings if f["status"] == "UNKNOWN"]
    assert pacing.waited["s3"] == sent["s3"] == len([c for c in guard.calls if c[0] == "s3"]) + 1


def test_a_throttling_s3_is_scanned_without_error_at_the_rate_asked(builtin_policies, monkeypatch):
    """moto behind a front that answers SlowDown to every second S3 request until it has refused
    3 (the first is the bucket listing); the scan holds S3 to 20 requests a second, as counted
    where the requests arrive. botocore's adaptive mode slows down for seconds after an early
    throttle, which makes this test take about ten."""
    from botocore.retries.standard import ExponentialBackoff

    # Back-off as botocore and cloudscan do it, at a twentieth of the pause, to keep the test short.
    monkeypatch.setitem(ExponentialBackoff._DEFAULT_BACKOFF_CONFIG, "throttling_base_scale", 0.05)
    monkeypatch.setattr(calls, "THROTTLED_PAUSE", 0.1)
    rate = 20
    with ThrottledMoto() as moto:
        setup = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
        s3 = setup.client("s3", endpoint_url=moto.url)
        for i in range(3):
            s3.create_bucket(Bucket=f"pacs-{i}", ACL="public-read" if i == 0 else "private")
        moto.throttle(2, every=1)
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.url)
        try:
            result = scan_aws(
                aws_world.session(),
                builtin_policies,
                regions=("us-east-1",),
                concurrency=8,
                pacing=Pacing(max_rate=rate),
            )
        finally:
            urllib.request.urlopen(urllib.request.Request(f"{moto.url}/moto-api/reset", method="POST"))

    assert moto.refused == 2
    assert result.errors == []
    assert [r["_meta"]["errors"] for r in result.resources if r["_meta"]["errors"]] == []
    assert not [f for f in result.findings if f["status"] == "UNKNOWN"]
    assert {r["name"] for r in result.resources if r["kind"] == "storage.bucket"} == {
        "pacs-0",
        "pacs-1",
        "pacs-2",
    }
    arrivals = moto.s3_arrivals
    assert len(arrivals) >= 3 * 9 + 3
    # Loose bounds: the limiter spaces requests 1/rate apart; the server sees them within jitter.
    assert arrivals[-1] - arrivals[0] >= 0.8 * (len(arrivals) - 1) / rate
    assert most_in_any_window(arrivals, 1.0) <= 1.5 * rate


# -- Google Cloud ------------------------------------------------------------------------------


def test_a_throttling_google_is_retried_and_every_request_waits_its_turn(builtin_policies):
    from gcp_world import World

    from cloudscan.providers.gcp.clients import Endpoints, GcpClients

    with GoogleFake() as fake:
        world = World(fake, fake.url, "pacs-prod")
        allow = {
            "name": "dicom",
            "allowed": [{"IPProtocol": "tcp", "ports": ["104"]}],
            "sourceRanges": ["0.0.0.0/0"],
        }
        world.build(
            {"buckets": {"studies": {"uniform": True}}, "firewalls": [allow], "datasets": {"eu/d": {}}}
        )
        fake.throttle(2)
        pacing = RecordingPacing(max_rate=500)
        endpoints = Endpoints(
            storage=fake.url, healthcare=fake.url, compute=fake.url, resource_manager=fake.url
        )
        clients = GcpClients(AnonymousCredentials(), endpoints, max_pool=4, pacing=pacing)

        result = scan_gcp(
            clients, builtin_policies, projects=("pacs-prod",), locations=("eu",), concurrency=4
        )

    assert fake.throttled == 0
    assert result.errors == []
    assert [r["_meta"]["errors"] for r in result.resources if r["_meta"]["errors"]] == []
    assert {r["kind"] for r in result.resources} >= {"storage.bucket", "network.ingress"}
    assert sum(pacing.waited.values()) == len(fake.requests)
    assert pacing.waited["storage"] > 0 and pacing.waited["compute"] > 0


# -- Azure -------------------------------------------------------------------------------------


def test_a_throttling_resource_manager_is_retried_and_every_request_waits_its_turn(builtin_policies):
    from azure_world import World

    from cloudscan.providers.azure.clients import AzureClients, Endpoints

    with ArmFake() as fake:
        world = World(fake)
        world.build(
            {
                "accounts": {"pacsarchive": {"allow_public": True}},
                "nsgs": {
                    "pacs-nsg": {"rules": [{"name": "dicom", "priority": 100, "source": "*", "port": "104"}]}
                },
            }
        )
        fake.throttle(2)
        pacing = RecordingPacing(max_rate=500)
        clients = AzureClients(FakeCredential(), Endpoints(arm=fake.url), pacing=pacing)

        result = scan_azure(clients, builtin_policies, subscriptions=(world.subscription,), concurrency=4)

    assert fake.throttled == 0
    assert result.errors == []
    assert [r["_meta"]["errors"] for r in result.resources if r["_meta"]["errors"]] == []
    assert {r["kind"] for r in result.resources} >= {"storage.account", "network.ingress"}
    assert pacing.waited == {"127.0.0.1": len(fake.requests)}
