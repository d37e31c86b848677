# A study uploaded public-read into a bucket whose owner enforces Object Ownership: ACLs are
# disabled (S3 would refuse the upload's ACL), so the object ACL grants nothing.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "uploads" {
  bucket = "pacs-uploads-enforced"
}

resource "aws_s3_bucket_ownership_controls" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  rule {
    object_ownership = "BucketOwnerEnforced"
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

resource "aws_s3_object" "shared_study" {
  bucket = aws_s3_bucket.uploads.id
  key    = "studies/1.2.840.113619.2.55.3.2.dcm"
  source = "study-2.dcm"
  acl    = "public-read"
}
