# Buckets tagged as holding PHI: versioning and access logs are judged more strictly.
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
