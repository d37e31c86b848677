# A bucket written in the pre-4.0 provider style: everything inline on aws_s3_bucket.
resource "aws_s3_bucket" "legacy" {
  bucket = "legacy-pacs-archive"
  acl    = "public-read-write"
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = ["s3:GetObject"], Resource = "arn:aws:s3:::legacy-pacs-archive/*" }]
  })

  versioning {
    enabled = true
  }

  logging {
    target_bucket = "legacy-logs"
  }

  object_lock_configuration {
    object_lock_enabled = "Enabled"
  }
}

resource "aws_s3_bucket_ownership_controls" "legacy" {
  bucket = aws_s3_bucket.legacy.id
  rule {
    object_ownership = "ObjectWriter"
  }
}

resource "aws_s3_bucket_public_access_block" "legacy" {
  bucket = aws_s3_bucket.legacy.id
}
