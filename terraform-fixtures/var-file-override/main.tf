# The same configuration scanned with --var-file restricted.tfvars: the reader is one role.
# (and no terraform.tfvars here).
variable "environment" {
  default = "prod"
}

variable "reader" {
  description = "Who may read the exports"
  default     = "arn:aws:iam::123456789012:role/viewer"
}

locals {
  bucket_name = "pacs-exports-${var.environment}"
}

resource "aws_s3_bucket" "exports" {
  bucket = local.bucket_name
  tags = {
    Environment        = var.environment
    DataClassification = "PHI"
  }
}

resource "aws_s3_bucket_public_access_block" "exports" {
  bucket = aws_s3_bucket.exports.id
}

resource "aws_s3_bucket_policy" "exports" {
  bucket = aws_s3_bucket.exports.id
  policy = jsonencode({
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.reader }
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3:::${local.bucket_name}/*"
    }]
  })
}
