# A "TLS only" statement that denies only some actions over plain HTTP.
resource "aws_s3_bucket" "cache" {
  bucket = "viewer-cache"
}

resource "aws_s3_bucket_policy" "cache" {
  bucket = aws_s3_bucket.cache.id
  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "HalfTLS", "Effect": "Deny", "Principal": "*",
    "Action": ["s3:GetObjectVersion", "s3:DeleteObject"],
    "Resource": ["arn:aws:s3:::viewer-cache", "arn:aws:s3:::viewer-cache/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
  }]
}
POLICY
}
