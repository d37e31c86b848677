resource "aws_s3_bucket" "open" {
  bucket = "still-scanned"
  acl    = "public-read"
}

resource "aws_s3_bucket_ownership_controls" "open" {
  bucket = aws_s3_bucket.open.id
  rule {
    object_ownership = "ObjectWriter"
  }
}

resource "aws_s3_bucket_public_access_block" "open" {
  bucket = aws_s3_bucket.open.id
}
