# Account-level Block Public Access with RestrictPublicBuckets left off: new public policies
# are refused, but one already in place, or set by this same apply, still works.
resource "aws_s3_account_public_access_block" "account" {
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = false
}

resource "aws_s3_bucket" "viewer" {
  bucket = "viewer-assets-legacy"
}

resource "aws_s3_bucket_public_access_block" "viewer" {
  bucket = aws_s3_bucket.viewer.id
}

resource "aws_s3_bucket_policy" "viewer" {
  bucket = aws_s3_bucket.viewer.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::viewer-assets-legacy/*" }]
  })
}
