# A module beside the broken one: read and judged as usual.
resource "aws_s3_bucket" "open" {
  bucket = "healthy-but-public"
}

resource "aws_s3_bucket_public_access_block" "open" {
  bucket = aws_s3_bucket.open.id
}

resource "aws_s3_bucket_policy" "open" {
  bucket = aws_s3_bucket.open.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::healthy-but-public/*" }]
  })
}
