# Saved by an editor that writes a UTF-8 byte-order mark.
resource "aws_s3_bucket" "bom_private" {
  bucket = "bom-private-studies"
}
