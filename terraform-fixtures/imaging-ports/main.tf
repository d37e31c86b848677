# Security groups of a PACS: DICOM and web ports from the internet, from a private network, by
# range, by all-traffic rules, and through prefix lists. Each rule style Terraform offers.
resource "aws_vpc" "imaging" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_security_group" "orthanc" {
  name   = "orthanc"
  vpc_id = aws_vpc.imaging.id

  ingress {
    from_port   = 104
    to_port     = 104
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  ingress {
    from_port   = 104
    to_port     = 104
    protocol    = "udp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "dicom_router" {
  name   = "dicom-router"
  vpc_id = aws_vpc.imaging.id
}

resource "aws_vpc_security_group_ingress_rule" "router_dicom" {
  security_group_id = aws_security_group.dicom_router.id
  ip_protocol       = "tcp"
  from_port         = 11112
  to_port           = 11112
  cidr_ipv4         = "10.20.0.0/16"
}

resource "aws_vpc_security_group_ingress_rule" "router_range" {
  security_group_id = aws_security_group.dicom_router.id
  ip_protocol       = "tcp"
  from_port         = 100
  to_port           = 200
  cidr_ipv6         = "::/0"
}

resource "aws_security_group" "legacy_pacs" {
  name   = "legacy-pacs"
  vpc_id = aws_vpc.imaging.id
}

resource "aws_security_group_rule" "legacy_all" {
  type              = "ingress"
  security_group_id = aws_security_group.legacy_pacs.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_ec2_managed_prefix_list" "partners" {
  name           = "partners-list"
  address_family = "IPv4"
  max_entries    = 10
  entry {
    cidr = "203.0.113.0/24"
  }
}

resource "aws_ec2_managed_prefix_list" "vendor" {
  name           = "vendor-vpn-list"
  address_family = "IPv4"
  max_entries    = 10
  entry {
    cidr = "198.51.100.0/24"
  }
  entry {
    cidr = "0.0.0.0/0"
  }
}

resource "aws_security_group" "partners" {
  name   = "partners"
  vpc_id = aws_vpc.imaging.id
  ingress {
    from_port       = 104
    to_port         = 104
    protocol        = "tcp"
    prefix_list_ids = [aws_ec2_managed_prefix_list.partners.id]
  }
}

resource "aws_security_group" "vendor_vpn" {
  name   = "vendor-vpn"
  vpc_id = aws_vpc.imaging.id
  ingress {
    from_port       = 11112
    to_port         = 11112
    protocol        = "tcp"
    prefix_list_ids = [aws_ec2_managed_prefix_list.vendor.id]
  }
}
