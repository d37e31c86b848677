# OHIF-style viewers serving studies from private buckets through CloudFront: the moto scenario
# of the same name. Every bucket blocks public access; what decides is whether the bucket lets
# the distribution read and whether viewers must sign their requests.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

locals {
  studies = ["open", "signed", "edge-auth", "not-granted", "legacy-oai", "any-distribution"]
}

resource "aws_s3_bucket" "studies" {
  for_each = toset(local.studies)
  bucket   = "ohif-studies-${each.key}"
}

resource "aws_s3_bucket_public_access_block" "studies" {
  for_each                = aws_s3_bucket.studies
  bucket                  = each.value.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_cloudfront_origin_access_control" "studies" {
  name                              = "ohif-studies"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_origin_access_identity" "legacy" {
  comment = "ohif legacy viewer"
}

resource "aws_cloudfront_public_key" "viewer" {
  name        = "ohif-viewer"
  encoded_key = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n"
}

resource "aws_cloudfront_key_group" "viewer" {
  name  = "ohif-signers"
  items = [aws_cloudfront_public_key.viewer.id]
}

resource "aws_cloudfront_function" "auth" {
  name    = "ohif-edge-auth"
  runtime = "cloudfront-js-2.0"
  code    = "function handler(event) { return event.request; }"
}

# Origin access control, no signed URLs, a geo restriction that does not make it private.
resource "aws_cloudfront_distribution" "open" {
  enabled = true
  origin {
    origin_id                = "studies"
    domain_name              = aws_s3_bucket.studies["open"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.studies.id
  }
  default_cache_behavior {
    target_origin_id       = "studies"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  }
  restrictions {
    geo_restriction {
      restriction_type = "whitelist"
      locations        = ["US", "CA"]
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# The same, but viewers need URLs or cookies signed with the trusted key group.
resource "aws_cloudfront_distribution" "signed" {
  enabled = true
  origin {
    origin_id                = "studies"
    domain_name              = aws_s3_bucket.studies["signed"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.studies.id
  }
  default_cache_behavior {
    target_origin_id       = "studies"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    trusted_key_groups     = [aws_cloudfront_key_group.viewer.id]
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# A CloudFront Function on viewer requests: it may check a token, which no scan can tell.
resource "aws_cloudfront_distribution" "edge_auth" {
  enabled = true
  origin {
    origin_id                = "studies"
    domain_name              = aws_s3_bucket.studies["edge-auth"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.studies.id
  }
  default_cache_behavior {
    target_origin_id       = "studies"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.auth.arn
    }
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# Origin access control, but the bucket policy grants another distribution.
resource "aws_cloudfront_distribution" "not_granted" {
  enabled = true
  origin {
    origin_id                = "studies"
    domain_name              = aws_s3_bucket.studies["not-granted"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.studies.id
  }
  default_cache_behavior {
    target_origin_id       = "studies"
    viewer_protocol_policy = "redirect-to-https"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# A legacy origin access identity, granted read and list, plain HTTP allowed.
resource "aws_cloudfront_distribution" "legacy_oai" {
  enabled = true
  origin {
    origin_id   = "studies"
    domain_name = aws_s3_bucket.studies["legacy-oai"].bucket_regional_domain_name
    s3_origin_config {
      origin_access_identity = aws_cloudfront_origin_access_identity.legacy.cloudfront_access_identity_path
    }
  }
  default_cache_behavior {
    target_origin_id       = "studies"
    viewer_protocol_policy = "allow-all"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    cache_policy_id        = "658327ea-f89d-4fab-a63d-7e88639e58f6"
  }
  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }
  viewer_certificate {
    cloudfront_default_certificate = true
  }
}

# Which distribution may read each bucket (origin access control): the one that serves it,
# except for not-granted, whose policy names the open viewer's distribution.
locals {
  granted = {
    "open"        = aws_cloudfront_distribution.open.arn
    "signed"      = aws_cloudfront_distribution.signed.arn
    "edge-auth"   = aws_cloudfront_distribution.edge_auth.arn
    "not-granted" = aws_cloudfront_distribution.open.arn
  }
}

data "aws_iam_policy_document" "cloudfront_read" {
  for_each = local.granted
  statement {
    sid       = "CloudFrontRead"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.studies[each.key].arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [each.value]
    }
  }
}

resource "aws_s3_bucket_policy" "cloudfront_read" {
  for_each = local.granted
  bucket   = aws_s3_bucket.studies[each.key].id
  policy   = data.aws_iam_policy_document.cloudfront_read[each.key].json
}

data "aws_iam_policy_document" "legacy_read" {
  statement {
    sid       = "LegacyIdentityRead"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.studies["legacy-oai"].arn, "${aws_s3_bucket.studies["legacy-oai"].arn}/*"]
    principals {
      type        = "AWS"
      identifiers = [aws_cloudfront_origin_access_identity.legacy.iam_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "legacy_read" {
  bucket = aws_s3_bucket.studies["legacy-oai"].id
  policy = data.aws_iam_policy_document.legacy_read.json
}

# A grant to the CloudFront service that names no distribution: any distribution, in any
# account, may read the studies, though none of this configuration serves them.
data "aws_iam_policy_document" "any_distribution" {
  statement {
    sid       = "CloudFrontRead"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.studies["any-distribution"].arn}/*"]
    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }
  }
}

resource "aws_s3_bucket_policy" "any_distribution" {
  bucket = aws_s3_bucket.studies["any-distribution"].id
  policy = data.aws_iam_policy_document.any_distribution.json
}
