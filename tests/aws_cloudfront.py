"""CloudFront distributions for moto scenarios, and what moto 5.2 leaves out of them.

A scenario's `distributions` name a bucket as origin and say how viewers and the origin are
protected:

    "distributions": {"ohif-viewer": {"origin": "bucket-name", "access": "oac" | "oai" | "none"
                                      | "website", "signed": true, "viewer_request": "function"
                                      | "lambda", "geo": ["US"], "protocol": "redirect-to-https",
                                      "paths": ["/dicomweb/*"], "unsigned_paths": ["/open/*"],
                                      "enabled": true}}

A bucket policy names a distribution's ARN as `CLOUDFRONT_ARN(name)`; `arns` gives the values.

Each distribution is made with the real CreateDistribution through boto3. moto 5.2.1 then
answers ListDistributions with summaries that hold only the id, ARN, status and domain (no
origins, behaviours or restrictions), drops an origin's OriginAccessControlId and its
S3OriginConfig, stores every behaviour's FunctionAssociations and LambdaFunctionAssociations as
empty, and writes ARNs without their empty region (arn:aws:cloudfront:ACCOUNT:...).
`complete_in_moto` (cloudscan/demo.py, whose simulated account needs it too) gives moto's own distribution
objects those fields from the same request, so the scanner's boto3 client still reads them as
XML that moto writes from CloudFront's model."""

from __future__ import annotations

import re
from typing import Any

from cloudscan.demo import complete_in_moto

ACCOUNT_ARN = "arn:aws:cloudfront::{account}:distribution/{id}"
PLACEHOLDER = re.compile(r"CLOUDFRONT_ARN\(([^)]+)\)")
# A public key in PEM form; moto stores it without checking, CloudFront would.
PUBLIC_KEY = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"


def build(setup: Any, specs: dict[str, dict[str, Any]], account: str, region: str) -> dict[str, str]:
    """Make the distributions; name -> ARN, in the form a bucket policy names it."""
    cloudfront = setup.client("cloudfront")
    arns = {}
    for name, spec in specs.items():
        config = distribution_config(cloudfront, name, spec, region)
        made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
        complete_in_moto(account, made["Id"], config)
        arns[name] = ACCOUNT_ARN.format(account=account, id=made["Id"])
    return arns


def with_arns(text: str, arns: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: arns[m.group(1)], text)


def distribution_config(cloudfront: Any, name: str, spec: dict[str, Any], region: str) -> dict[str, Any]:
    bucket = spec["origin"]
    access = spec.get("access", "oac")
    origin: dict[str, Any] = {"Id": f"{bucket}-origin"}
    if access == "website":
        origin["DomainName"] = f"{bucket}.s3-website-{region}.amazonaws.com"
        origin["CustomOriginConfig"] = {
            "HTTPPort": 80,
            "HTTPSPort": 443,
            "OriginProtocolPolicy": "http-only",
        }
    else:
        origin["DomainName"] = f"{bucket}.s3.{region}.amazonaws.com"
        identity = ""
        if access == "oai":
            identity = f"origin-access-identity/cloudfront/E{name.upper().replace('-', '')[:12]}"
        origin["S3OriginConfig"] = {"OriginAccessIdentity": identity}
        if access == "oac":
            control = cloudfront.create_origin_access_control(
                OriginAccessControlConfig={
                    "Name": f"{name}-oac",
                    "SigningProtocol": "sigv4",
                    "SigningBehavior": "always",
                    "OriginAccessControlOriginType": "s3",
                }
            )
            origin["OriginAccessControlId"] = control["OriginAccessControl"]["Id"]
    behaviour = _behaviour(cloudfront, name, spec, origin["Id"])
    config: dict[str, Any] = {
        "CallerReference": name,
        "Comment": name,
        "Enabled": spec.get("enabled", True),
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": behaviour,
    }
    # More behaviours: like the default one, or with no signers ("unsigned_paths").
    unsigned = {k: v for k, v in behaviour.items() if k != "TrustedKeyGroups"}
    items = [{**behaviour, "PathPattern": path} for path in spec.get("paths", [])]
    items += [{**unsigned, "PathPattern": path} for path in spec.get("unsigned_paths", [])]
    if items:
        config["CacheBehaviors"] = {"Quantity": len(items), "Items": items}
    if spec.get("geo"):
        geo = {"RestrictionType": "whitelist", "Quantity": len(spec["geo"]), "Items": spec["geo"]}
        config["Restrictions"] = {"GeoRestriction": geo}
    return config


def _behaviour(cloudfront: Any, name: str, spec: dict[str, Any], origin: str) -> dict[str, Any]:
    behaviour: dict[str, Any] = {
        "TargetOriginId": origin,
        "ViewerProtocolPolicy": spec.get("protocol", "redirect-to-https"),
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",  # CachingOptimized, managed
    }
    if spec.get("signed"):
        key = cloudfront.create_public_key(
            PublicKeyConfig={"CallerReference": name, "Name": f"{name}-key", "EncodedKey": PUBLIC_KEY}
        )["PublicKey"]["Id"]
        group = cloudfront.create_key_group(KeyGroupConfig={"Name": f"{name}-signers", "Items": [key]})
        behaviour["TrustedKeyGroups"] = {"Enabled": True, "Quantity": 1, "Items": [group["KeyGroup"]["Id"]]}
    code = spec.get("viewer_request")
    if code == "function":
        arn = f"arn:aws:cloudfront::123456789012:function/{name}-auth"
        behaviour["FunctionAssociations"] = {
            "Quantity": 1,
            "Items": [{"FunctionARN": arn, "EventType": "viewer-request"}],
        }
    elif code == "lambda":
        arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}-auth:1"
        behaviour["LambdaFunctionAssociations"] = {
            "Quantity": 1,
            "Items": [{"LambdaFunctionARN": arn, "EventType": "viewer-request", "IncludeBody": False}],
        }
    return behaviour
