# The same public-read study, in a bucket whose Block Public Access ignores public ACLs.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "uploads" {
  bucket = "pacs-uploads-guarded"
}

resource "aws_s3_bucket_ownership_controls" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "uploads" {
  bucket                  = aws_s3_bucket.uploads.id
  block_public_acls       = false
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_object" "shared_study" {
  bucket = aws_s3_bucket.uploads.id
  key    = "studies/1.2.840.113619.2.55.3.2.dcm"
  source = "study-2.dcm"
  acl    = "public-read"
}
