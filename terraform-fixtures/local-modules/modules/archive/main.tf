variable "bucket_name" {
  default = "module-default-archive"
}

variable "reader" {
  default = "arn:aws:iam::123456789012:role/viewer"
}

variable "allowed_cidrs" {
  default = ["10.0.0.0/8"]
}

resource "aws_s3_bucket" "this" {
  bucket = var.bucket_name
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket = aws_s3_bucket.this.id
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = { AWS = var.reader }, Action = "s3:GetObject", Resource = "${aws_s3_bucket.this.arn}/*" }]
  })
}

resource "aws_security_group" "pacs" {
  name = "${var.bucket_name}-pacs"
  ingress {
    from_port   = 104
    to_port     = 104
    protocol    = "tcp"
    cidr_blocks = var.allowed_cidrs
  }
}
