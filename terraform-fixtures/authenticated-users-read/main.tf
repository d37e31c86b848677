# A teleradiology inbox whose canned ACL lets every authenticated AWS user read it.
resource "aws_s3_bucket" "inbox" {
  bucket = "teleradiology-inbox"
}

resource "aws_s3_bucket_ownership_controls" "inbox" {
  bucket = aws_s3_bucket.inbox.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "inbox" {
  bucket             = aws_s3_bucket.inbox.id
  block_public_acls  = false
  ignore_public_acls = false
}

resource "aws_s3_bucket_acl" "inbox" {
  bucket = aws_s3_bucket.inbox.id
  acl    = "authenticated-read"
}
