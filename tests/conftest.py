import os

import pytest

# Never let a test reach a real AWS account or a developer's profile.
for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)


@pytest.fixture(scope="session", autouse=True)
def healthimaging_without_stores():
    """moto has no HealthImaging: the AWS scans of the suite ask this server, which holds no data
    store (tests/test_aws_healthimaging.py starts its own, with stores)."""
    from healthimaging_fake import HealthImagingFake

    with HealthImagingFake() as fake:
        os.environ["AWS_ENDPOINT_URL_MEDICAL_IMAGING"] = fake.url
        try:
            yield fake
        finally:
            os.environ.pop("AWS_ENDPOINT_URL_MEDICAL_IMAGING", None)


@pytest.fixture
def aws():
    """An empty in-memory AWS account (moto) for one test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def guard(aws):
    """Watches the scan's session: every call recorded, any write fails the test."""
    from aws_world import CallGuard

    watcher = CallGuard()
    yield watcher
    assert not watcher.violations, f"scan made calls that are not read-only: {watcher.violations}"


@pytest.fixture(scope="session")
def builtin_policies():
    from cloudscan.policyset import load_policies

    return load_policies([])
