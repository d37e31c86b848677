# A small imaging estate planned by the real terraform CLI (see regenerate.sh): new buckets,
# whose grant, logging and versioning blocks a plan leaves unknown until apply; a security
# group whose rules are separate resources; a module; for_each; a policy built from an ARN.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "plan-only"
  secret_key                  = "plan-only"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

variable "sites" {
  default = {
    north = { public = true }
    south = { public = false }
  }
}

resource "aws_s3_bucket" "export" {
  for_each      = var.sites
  bucket_prefix = "pacs-export-${each.key}-"
}

resource "aws_s3_bucket_public_access_block" "export" {
  for_each                = var.sites
  bucket                  = aws_s3_bucket.export[each.key].id
  block_public_acls       = !each.value.public
  ignore_public_acls      = !each.value.public
  block_public_policy     = !each.value.public
  restrict_public_buckets = !each.value.public
}

resource "aws_s3_bucket_policy" "export" {
  for_each = { for site, settings in var.sites : site => settings if settings.public }
  bucket   = aws_s3_bucket.export[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = "*"
      Action    = "s3:GetObject"
      Resource  = "${aws_s3_bucket.export[each.key].arn}/*"
    }]
  })
}

resource "aws_s3_bucket_versioning" "export" {
  for_each = var.sites
  bucket   = aws_s3_bucket.export[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_security_group" "orthanc" {
  name = "orthanc"
}

resource "aws_vpc_security_group_ingress_rule" "dicom" {
  security_group_id = aws_security_group.orthanc.id
  ip_protocol       = "tcp"
  from_port         = 4242
  to_port           = 4242
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "viewer" {
  security_group_id = aws_security_group.orthanc.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "10.0.0.0/8"
}

resource "aws_security_group_rule" "egress" {
  type              = "egress"
  security_group_id = aws_security_group.orthanc.id
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
}

module "archive" {
  source = "./modules/archive"
  name   = "radiology-archive-plan"
}
