# The same bucket and access point, with the access point's Block Public Access left at its
# default (every flag on): its public policy is restricted. The policy is a resource of its own.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "viewer_origin" {
  bucket = "ct-viewer-origin-guarded"
}

resource "aws_s3_bucket_ownership_controls" "viewer_origin" {
  bucket = aws_s3_bucket.viewer_origin.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "viewer_origin" {
  bucket = aws_s3_bucket.viewer_origin.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DelegateToAccessPoints"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "*"
      Resource  = [aws_s3_bucket.viewer_origin.arn, "${aws_s3_bucket.viewer_origin.arn}/*"]
      Condition = { StringEquals = { "s3:DataAccessPointAccount" = "123456789012" } }
    }]
  })
}

resource "aws_s3_access_point" "viewer" {
  bucket = aws_s3_bucket.viewer_origin.id
  name   = "viewer"
}

resource "aws_s3control_access_point_policy" "viewer" {
  access_point_arn = aws_s3_access_point.viewer.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_access_point.viewer.arn}/object/*"
    }]
  })
}
