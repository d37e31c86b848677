# Two private buckets behind Multi-Region Access Points whose policies let anyone read; each
# bucket delegates to access points. The first Multi-Region Access Point was made with its Block
# Public Access off: anyone reads its studies. The second keeps S3's default (all on).
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

locals {
  buckets = { open = "mammo-global", guarded = "mammo-global-guarded" }
  everyone_reads = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "arn:aws:s3::123456789012:accesspoint/*/object/*"
    }]
  })
}

resource "aws_s3_bucket" "mammo" {
  for_each = local.buckets
  bucket   = each.value
}

resource "aws_s3_bucket_ownership_controls" "mammo" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.mammo[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_policy" "mammo" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.mammo[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DelegateToAccessPoints"
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = "*"
      Resource  = [aws_s3_bucket.mammo[each.key].arn, "${aws_s3_bucket.mammo[each.key].arn}/*"]
      Condition = { StringEquals = { "s3:DataAccessPointAccount" = "123456789012" } }
    }]
  })
}

resource "aws_s3control_multi_region_access_point" "everywhere" {
  details {
    name = "mammo-everywhere"
    public_access_block {
      block_public_acls       = false
      ignore_public_acls      = false
      block_public_policy     = false
      restrict_public_buckets = false
    }
    region {
      bucket = aws_s3_bucket.mammo["open"].id
    }
  }
}

resource "aws_s3control_multi_region_access_point_policy" "everywhere" {
  details {
    name   = "mammo-everywhere"
    policy = local.everyone_reads
  }
}

resource "aws_s3control_multi_region_access_point" "guarded" {
  details {
    name = "mammo-guarded"
    region {
      bucket = aws_s3_bucket.mammo["guarded"].id
    }
  }
}

resource "aws_s3control_multi_region_access_point_policy" "guarded" {
  details {
    name   = "mammo-guarded"
    policy = local.everyone_reads
  }
}
