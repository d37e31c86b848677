# Checked out on Windows: every line ends in CRLF, heredoc included.
resource "aws_s3_bucket" "crlf_public" {
  bucket = "crlf-public-studies"
}

resource "aws_s3_bucket_public_access_block" "crlf_public" {
  bucket                  = aws_s3_bucket.crlf_public.id
  block_public_acls       = false
  ignore_public_acls      = false
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_policy" "crlf_public" {
  bucket = aws_s3_bucket.crlf_public.id
  policy = <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::crlf-public-studies/*"
  }]
}
POLICY
}
