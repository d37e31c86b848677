# A bucket opened to every account of another organisation, and one a logging service may write
# to on behalf of another organisation's resources. Scanned with --organization-id of this
# account's organisation (o-a1b2c3d4e5), o-f0re1gn0rg7 is someone else's.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "partner" {
  bucket = "partner-org-share"
}

resource "aws_s3_bucket_policy" "partner" {
  bucket = aws_s3_bucket.partner.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.partner.arn}/*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-f0re1gn0rg7" } }
    }]
  })
}

resource "aws_s3_bucket" "trail" {
  bucket = "foreign-trail-target"
}

resource "aws_s3_bucket_policy" "trail" {
  bucket = aws_s3_bucket.trail.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "${aws_s3_bucket.trail.arn}/*"
      Condition = { StringEquals = { "aws:SourceOrgID" = "o-f0re1gn0rg7" } }
    }]
  })
}
