# A private bucket with ACLs enabled; one study is uploaded with a public-read object ACL:
# anyone can download it. The object's key never appears in a finding, its address does.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "uploads" {
  bucket = "pacs-uploads"
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

resource "aws_s3_object" "private_study" {
  bucket = aws_s3_bucket.uploads.id
  key    = "studies/1.2.840.113619.2.55.3.1.dcm"
  source = "study-1.dcm"
}

resource "aws_s3_object" "shared_study" {
  bucket = aws_s3_bucket.uploads.id
  key    = "studies/1.2.840.113619.2.55.3.2.dcm"
  source = "study-2.dcm"
  acl    = "public-read"
}
