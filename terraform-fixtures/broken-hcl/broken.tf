resource "aws_s3_bucket" "broken" {
  bucket = "half-written"
  acl =
}
