# Values that literals, defaults and tfvars decide, written with operators, conditionals, for
# expressions, splats and functions, as public modules write them. Each must be worked out.
locals {
  environment = var.environment == "prod" && !var.debug ? "prod" : "dev"
  public_ports = [for name, rule in var.rules : rule.port if rule.public]
  vpc_cidr     = cidrsubnet(var.network, 4, 1)
}

resource "aws_security_group" "pacs" {
  name = "pacs-${local.environment}"
  # A for expression that builds whole ingress blocks.
  ingress = [for port in local.public_ports : {
    from_port        = port
    to_port          = port
    protocol         = "tcp"
    cidr_blocks      = [lookup(var.sources, "internet", "10.0.0.0/8")]
    ipv6_cidr_blocks = []
    prefix_list_ids  = []
    security_groups  = []
    self             = false
    description      = "public ${port}"
  }]
}

resource "aws_security_group" "internal" {
  name = "internal"
  dynamic "ingress" {
    for_each = { for name, rule in var.rules : name => rule if !rule.public }
    content {
      from_port   = ingress.value.port
      to_port     = try(ingress.value.to_port, ingress.value.port)
      protocol    = "tcp"
      cidr_blocks = [local.vpc_cidr]
    }
  }
}

# for_each over a map variable declared in variables.tf, read after this file.
resource "aws_s3_bucket" "archive" {
  for_each = var.archives
  bucket   = "${each.key}-${local.environment}"
}

resource "aws_s3_bucket_public_access_block" "archive" {
  for_each                = var.archives
  bucket                  = aws_s3_bucket.archive[each.key].id
  block_public_acls       = !each.value.shared
  ignore_public_acls      = !each.value.shared
  block_public_policy     = !each.value.shared
  restrict_public_buckets = !each.value.shared
}

resource "aws_s3_bucket_ownership_controls" "archive" {
  for_each = var.archives
  bucket   = aws_s3_bucket.archive[each.key].id
  rule {
    object_ownership = each.value.shared ? "BucketOwnerPreferred" : "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_acl" "archive" {
  for_each = var.archives
  bucket   = aws_s3_bucket.archive[each.key].id
  acl      = each.value.shared ? "public-read" : "private"
}

# A splat over a count resource, and element() of it.
resource "aws_s3_bucket" "logs" {
  count  = length(var.log_regions)
  bucket = format("logs-%s-%02d", var.log_regions[count.index], count.index)
}

resource "aws_s3_bucket_logging" "archive" {
  for_each      = var.archives
  bucket        = aws_s3_bucket.archive[each.key].id
  target_bucket = element(aws_s3_bucket.logs[*].id, 0)
  target_prefix = "${each.key}/"
}

# What the files do not decide stays unknown: a for expression over a variable nobody set.
resource "aws_security_group" "partners" {
  name    = "partners"
  ingress = [for cidr in var.partner_cidrs : { from_port = 104, to_port = 104, protocol = "tcp", cidr_blocks = [cidr] }]
}
