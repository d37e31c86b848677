# A legacy inline grant, a public statement arriving through override_policy_documents, and
# ingress from a dynamic block with ports given as strings: each read as Terraform applies it.

variable "block_public" {
  type    = bool
  default = "false" # a string that Terraform converts to false
}

variable "dicom_ports" {
  default = ["104", "11112"]
}

# 1. A legacy inline grant block on the bucket.
resource "aws_s3_bucket" "legacy_grant" {
  bucket = "legacy-grant"
  grant {
    type        = "Group"
    uri         = "http://acs.amazonaws.com/groups/global/AllUsers"
    permissions = ["READ"]
  }
}

resource "aws_s3_bucket_ownership_controls" "legacy_grant" {
  bucket = aws_s3_bucket.legacy_grant.id
  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "legacy_grant" {
  bucket                  = aws_s3_bucket.legacy_grant.id
  block_public_acls       = var.block_public
  ignore_public_acls      = var.block_public
  block_public_policy     = var.block_public
  restrict_public_buckets = var.block_public
}

# 2. A public statement that arrives through override_policy_documents.
data "aws_iam_policy_document" "base" {
  statement {
    sid = "Readers"
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:role/viewer"]
    }
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::override-public/*"]
  }
}

data "aws_iam_policy_document" "final" {
  source_policy_documents   = [data.aws_iam_policy_document.base.json]
  override_policy_documents = [jsonencode({
    Statement = [{ Sid = "Readers", Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "arn:aws:s3:::override-public/*" }]
  })]
}

resource "aws_s3_bucket" "override" {
  bucket = "override-public"
}

resource "aws_s3_bucket_public_access_block" "override" {
  bucket = aws_s3_bucket.override.id
}

resource "aws_s3_bucket_policy" "override" {
  bucket = aws_s3_bucket.override.id
  policy = data.aws_iam_policy_document.final.json
}

# 3. Ingress from a dynamic block, with ports given as strings.
resource "aws_security_group" "dynamic_dicom" {
  name = "dynamic-dicom"
  dynamic "ingress" {
    for_each = var.dicom_ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }
}
