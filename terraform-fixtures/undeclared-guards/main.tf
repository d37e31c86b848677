# An archive brought under Terraform years after it was made: nothing declares its Block Public
# Access or its object ownership, so AWS's 2023 defaults for new buckets cannot be assumed. A
# public grant whose only protection would be such a default is a FAIL.
resource "aws_s3_bucket" "legacy_policy" {
  bucket = "legacy-teaching-files"
}

resource "aws_s3_bucket_policy" "legacy_policy" {
  bucket = aws_s3_bucket.legacy_policy.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.legacy_policy.arn}/*"
    }]
  })
}

resource "aws_s3_bucket" "legacy_acl" {
  bucket = "legacy-referral-exports"
  acl    = "public-read"
}

# The same ACL, with the guards declared: it is switched off.
resource "aws_s3_bucket" "guarded_acl" {
  bucket = "guarded-referral-exports"
}

resource "aws_s3_bucket_acl" "guarded_acl" {
  bucket = aws_s3_bucket.guarded_acl.id
  acl    = "public-read"
}

resource "aws_s3_bucket_ownership_controls" "guarded_acl" {
  bucket = aws_s3_bucket.guarded_acl.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}
