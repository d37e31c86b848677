# Written the way real repositories write it: comments inside expressions, a conditional broken
# over lines inside parentheses, a number with an exponent, and a "%{suffix}" placeholder that
# is no template directive (read as text, as other readers do).
variable "share_with_partners" {
  default = false
}

resource "aws_s3_bucket" "comments" {
  bucket = /* generated per environment */ "comment-studies-%{suffix}"
}

resource "aws_s3_bucket_acl" "comments" {
  bucket = aws_s3_bucket.comments.id
  acl = (var.share_with_partners
    ? "public-read"
    : "private") # partners get a signed URL instead
}

resource "aws_s3_bucket_lifecycle_configuration" "comments" {
  bucket = aws_s3_bucket.comments.id
  rule {
    id     = "expire"
    status = "Enabled"
    expiration {
      days = 1e3
    }
  }
}
