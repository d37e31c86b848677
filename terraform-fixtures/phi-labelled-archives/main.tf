# Buckets tagged as holding PHI: versioning, access logs and KMS encryption are judged more strictly.
resource "aws_s3_bucket" "kept" {
  bucket = "phi-archive-kept"
  tags = {
    DataClassification = "PHI"
  }
}

resource "aws_s3_bucket_versioning" "kept" {
  bucket = aws_s3_bucket.kept.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_logging" "kept" {
  bucket        = aws_s3_bucket.kept.id
  target_bucket = "phi-archive-logs"
  target_prefix = "kept/"
}

resource "aws_s3_bucket" "bare" {
  bucket = "phi-archive-bare"
  tags = {
    DataClassification = "PHI"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "kept" {
  bucket = aws_s3_bucket.kept.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = "arn:aws:kms:us-east-1:123456789012:key/phi"
    }
  }
}
