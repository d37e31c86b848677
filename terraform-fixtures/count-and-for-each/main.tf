# Resources that do not exist (count = 0, empty for_each) are not judged; for_each makes one
# bucket per key. Checkov reports the count = 0 bucket.
variable "studies" {
  default = {
    ct  = "public-read"
    mri = "private"
  }
}

resource "aws_s3_bucket" "disabled" {
  count  = 0
  bucket = "old-public-export"
  acl    = "public-read"
}

resource "aws_s3_bucket" "none" {
  for_each = {}
  bucket   = "never-${each.key}"
}

resource "aws_s3_bucket" "study" {
  for_each = var.studies
  bucket   = "study-${each.key}"
}

resource "aws_s3_bucket_ownership_controls" "study" {
  for_each = var.studies
  bucket   = aws_s3_bucket.study[each.key].id
  rule {
    object_ownership = "ObjectWriter"
  }
}

resource "aws_s3_bucket_public_access_block" "study" {
  for_each = var.studies
  bucket   = aws_s3_bucket.study[each.key].id
}

resource "aws_s3_bucket_acl" "study" {
  for_each = var.studies
  bucket   = aws_s3_bucket.study[each.key].id
  acl      = each.value
}
