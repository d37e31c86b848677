# Buckets opened to every account of the organisation this account belongs to, and to an OU
# path below it. The files cannot say which organisation that is: expected.json passes it as
# --organization-id o-a1b2c3d4e5, and the grants are internal.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_s3_bucket" "org_wide" {
  bucket = "org-wide-archive"
}

resource "aws_s3_bucket_policy" "org_wide" {
  bucket = aws_s3_bucket.org_wide.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.org_wide.arn}/*"
      Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-a1b2c3d4e5" } }
    }]
  })
}

resource "aws_s3_bucket" "radiology_ou" {
  bucket = "radiology-ou-archive"
}

data "aws_iam_policy_document" "radiology_ou" {
  statement {
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [aws_s3_bucket.radiology_ou.arn, "${aws_s3_bucket.radiology_ou.arn}/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "aws:PrincipalOrgPaths"
      values   = ["o-a1b2c3d4e5/r-ab12/ou-ab12-radiolog/"]
    }
  }
}

resource "aws_s3_bucket_policy" "radiology_ou" {
  bucket = aws_s3_bucket.radiology_ou.id
  policy = data.aws_iam_policy_document.radiology_ou.json
}
