variable "alias" {}

resource "aws_kms_key" "this" {
  description = "Key for ${var.alias}"
}

output "arn" {
  value = aws_kms_key.this.arn
}
