# Sources that the files do not decide are UNKNOWN, never the internet: a VPC's range read from
# a data source, an address Azure assigns on apply. A rule's type from a variable is still read.
data "aws_vpc" "main" {
  tags = { Name = "imaging" }
}

variable "rule_type" {
  default = "ingress"
}

variable "unset_type" {}

resource "aws_security_group" "pacs" {
  name = "pacs"
  ingress {
    from_port   = 104
    to_port     = 104
    protocol    = "tcp"
    cidr_blocks = [data.aws_vpc.main.cidr_block]
  }
}

resource "aws_security_group_rule" "from_variable" {
  type              = var.rule_type
  security_group_id = aws_security_group.pacs.id
  from_port         = 11112
  to_port           = 11112
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group_rule" "unset_type" {
  type              = var.unset_type
  security_group_id = aws_security_group.pacs.id
  from_port         = 4242
  to_port           = 4242
  protocol          = "tcp"
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "azurerm_public_ip" "gateway" {
  name              = "gateway"
  allocation_method = "Static"
}

resource "azurerm_network_security_group" "pacs" {
  name = "pacs-nsg"
  security_rule {
    name                       = "from-gateway"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    source_address_prefix      = azurerm_public_ip.gateway.ip_address
    destination_address_prefix = "*"
  }
}

# An address known only after apply, inside a template: still not the internet.
resource "aws_eip" "gateway" {}

resource "aws_security_group_rule" "from_gateway" {
  type              = "ingress"
  security_group_id = aws_security_group.pacs.id
  from_port         = 104
  to_port           = 104
  protocol          = "tcp"
  cidr_blocks       = ["${aws_eip.gateway.private_ip}/32"]
}
