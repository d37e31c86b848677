# Values that come out of local modules: a KMS key's ARN and a bucket policy written by a
# module. The files decide both, so neither is UNKNOWN.
module "key" {
  source = "./modules/key"
  alias  = "studies"
}

module "viewer_policy" {
  source     = "./modules/viewer-policy"
  bucket_arn = aws_s3_bucket.studies.arn
  public     = true
}

resource "aws_s3_bucket" "studies" {
  bucket = "module-output-studies"
}

resource "aws_s3_bucket_public_access_block" "studies" {
  bucket                  = aws_s3_bucket.studies.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

resource "aws_s3_bucket_server_side_encryption_configuration" "studies" {
  bucket = aws_s3_bucket.studies.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = module.key.arn
    }
  }
}

resource "aws_s3_bucket_policy" "studies" {
  bucket = aws_s3_bucket.studies.id
  policy = module.viewer_policy.json
}
