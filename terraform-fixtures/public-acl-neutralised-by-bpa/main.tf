# A research bucket with a public-read ACL (legacy inline argument) that bucket-level Block
# Public Access switches off. Checkov reports such a bucket as public; it is not.
resource "aws_s3_bucket" "research" {
  bucket = "ct-research"
  acl    = "public-read"

  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "research" {
  bucket = "ct-research"
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "research" {
  bucket                  = "ct-research"
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}
