# A root module that calls a local module with arguments that open it up. The module judged
# with its own defaults would pass; judged as called, it does not.
module "archive" {
  source        = "./modules/archive"
  bucket_name   = "pacs-module-archive"
  reader        = "*"
  allowed_cidrs = ["0.0.0.0/0"]
}

module "disabled" {
  source = "./modules/archive"
  count  = 0
}

module "from_registry" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.1.0"
  acl     = "public-read"
}
