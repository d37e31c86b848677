# The principal is a variable without a default and no tfvars gives it: whether the bucket is
# public cannot be known from this configuration, so the result is UNKNOWN, not PASS.
variable "reader" {
  description = "Principal allowed to read"
}

resource "aws_s3_bucket" "exports" {
  bucket = "pacs-exports"
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket = aws_s3_bucket.exports.id
}

resource "aws_s3_bucket_policy" "exports" {
  bucket = aws_s3_bucket.exports.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = var.reader, Action = "s3:GetObject", Resource = "arn:aws:s3:::pacs-exports/*" }]
  })
}
