# A bucket whose own ACL and policy are private; its policy delegates to its access points
# (s3:DataAccessPointAccount), and its internet access point, with Block Public Access off,
# lets anyone read. The studies are public through the access point.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "viewer_origin" {
  bucket = "ct-viewer-origin"
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

  public_access_block_configuration {
    block_public_acls       = false
    ignore_public_acls      = false
    block_public_policy     = false
    restrict_public_buckets = false
  }

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:us-east-1:123456789012:accesspoint/viewer/object/*"
    }]
  })
}
