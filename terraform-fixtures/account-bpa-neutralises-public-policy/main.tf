# A bucket policy that would be public, in an account whose Block Public Access
# (RestrictPublicBuckets) keeps it private. Checkov ignores account-level settings.
resource "aws_s3_account_public_access_block" "account" {
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "viewer" {
  bucket = "viewer-assets"
}

resource "aws_s3_bucket_public_access_block" "viewer" {
  bucket = aws_s3_bucket.viewer.id
}

resource "aws_s3_bucket_policy" "viewer" {
  bucket = aws_s3_bucket.viewer.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${aws_s3_bucket.viewer.arn}/*" }]
  })
}
