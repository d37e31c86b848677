variable "bucket_arn" {}
variable "public" {
  default = false
}

output "json" {
  value = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = var.public ? "*" : { AWS = "arn:aws:iam::111122223333:root" }
      Action    = "s3:GetObject"
      Resource  = "${var.bucket_arn}/*"
    }]
  })
}
