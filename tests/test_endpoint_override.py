"""`cloudscan scan aws` as a separate process against moto_server through AWS_ENDPOINT_URL,
the way users point it at a proxy or an emulator."""

import json
import logging
import os
import subprocess
import sys

import boto3
import pytest

ACCOUNT = "123456789012"


@pytest.fixture
def moto_server():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_account_block_public_access_is_read_through_an_endpoint_override(moto_server):
    setup = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    s3 = setup.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="pacs-archive")
    control = setup.client("s3control", endpoint_url=moto_server)
    # Setup needs the same fix as the scanner: the account id must not become part of the host.
    control.meta.events.register(
        "before-sign.s3-control.*",
        lambda request, **_: setattr(request, "url", request.url.replace(f"//{ACCOUNT}.", "//")),
    )
    control.put_public_access_block(
        AccountId=ACCOUNT,
        PublicAccessBlockConfiguration=dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        ),
    )

    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cloudscan",
            "scan",
            "aws",
            "--region",
            "us-east-1",
            "--format",
            "json",
            "--only",
            "aws-s3-account-block-public-access",
            "--only",
            "storage-no-public-read",
            "--strict",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    statuses = {f["policy_id"]: f["status"] for f in report["findings"]}
    assert statuses == {"aws-s3-account-block-public-access": "PASS", "storage-no-public-read": "PASS"}
    assert report["errors"] == []
