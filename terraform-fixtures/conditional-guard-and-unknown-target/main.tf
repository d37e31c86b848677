# A guard that exists only when a condition holds, and a setting whose bucket is a variable
# nobody set: neither can be taken for granted, so what depends on them is UNKNOWN.

variable "lock_account" {
  description = "Set by the pipeline; not known here"
}

variable "log_bucket_name" {
  description = "Given by the pipeline; not known here"
}

variable "block_public" {
  type    = bool
  default = "false" # a string that Terraform converts to false
}

# 1. An account guard that exists only when a condition holds: it may not exist.
resource "aws_s3_account_public_access_block" "maybe" {
  count                   = var.lock_account ? 1 : 0
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket" "conditional" {
  bucket = "conditional-guard"
}

resource "aws_s3_bucket_public_access_block" "conditional" {
  bucket                  = aws_s3_bucket.conditional.id
  block_public_acls       = var.block_public
  ignore_public_acls      = var.block_public
  block_public_policy     = var.block_public
  restrict_public_buckets = var.block_public
}

resource "aws_s3_bucket_policy" "conditional" {
  bucket = aws_s3_bucket.conditional.id
  policy = jsonencode({
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::conditional-guard/*" }]
  })
}

# 2. A logging resource whose bucket comes from a variable nobody set: it may belong to any
#    bucket here, so no bucket's logging can be judged.
resource "aws_s3_bucket_logging" "unknown_target" {
  bucket        = var.log_bucket_name
  target_bucket = "central-logs"
}

