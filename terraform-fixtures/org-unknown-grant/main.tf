# A bucket opened to an organisation. Nothing in the files says whether o-a1b2c3d4e5 is the
# account's own: scanned without --organization-id, the grant is UNKNOWN.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "pinned" {
  bucket = "org-pinned-archive"
}

resource "aws_s3_bucket_policy" "pinned" {
  bucket = aws_s3_bucket.pinned.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.pinned.arn}/*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } }
    }]
  })
}
