# Object variables with optional attributes, as modules declare them: an attribute the caller
# leaves out is null or its declared default, so try() and lookups take the branch Terraform
# takes.
variable "dicom" {
  type = object({
    port    = optional(number, 104)
    ranges  = optional(list(string))
    enabled = optional(bool, true)
  })
  default = { ranges = ["0.0.0.0/0"] }
}

variable "viewer" {
  type = object({
    port   = optional(number, 443)
    ranges = optional(list(string))
  })
  default = {}
}

resource "aws_security_group" "pacs" {
  name = "pacs"
}

resource "aws_security_group_rule" "dicom" {
  count             = var.dicom.enabled ? 1 : 0
  type              = "ingress"
  security_group_id = aws_security_group.pacs.id
  from_port         = var.dicom.port
  to_port           = var.dicom.port
  protocol          = "tcp"
  cidr_blocks       = var.dicom.ranges
}

resource "aws_security_group_rule" "viewer" {
  type              = "ingress"
  security_group_id = aws_security_group.pacs.id
  from_port         = var.viewer.port
  to_port           = var.viewer.port
  protocol          = "tcp"
  cidr_blocks       = coalesce(var.viewer.ranges, ["10.30.0.0/16"])
}
