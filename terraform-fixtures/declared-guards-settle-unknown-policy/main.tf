# A policy that names the applying account cannot be read before apply, but every Block Public
# Access setting is declared on: whatever the policy grants the public is switched off.
data "aws_caller_identity" "current" {}

resource "aws_s3_bucket" "archive" {
  bucket = "settled-archive"
}

resource "aws_s3_bucket_public_access_block" "archive" {
  bucket                  = aws_s3_bucket.archive.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.archive.arn}/*"
    }]
  })
}
