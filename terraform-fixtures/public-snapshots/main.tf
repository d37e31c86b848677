# The moto scenario of the same name: a PACS server's disk and its database, each snapshot
# shared with all. The AWS provider's aws_snapshot_create_volume_permission takes an account,
# not the group "all" (hashicorp/terraform-provider-aws#13198), so a public EBS snapshot is
# usually made outside Terraform; an account_id of "all" is judged public all the same.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_ebs_volume" "pacs" {
  availability_zone = "us-east-1a"
  size              = 8
}

resource "aws_ebs_snapshot" "pacs" {
  volume_id = aws_ebs_volume.pacs.id
  tags = {
    Name = "pacs-disk-nightly"
  }
}

resource "aws_snapshot_create_volume_permission" "everyone" {
  snapshot_id = aws_ebs_snapshot.pacs.id
  account_id  = "all"
}

resource "aws_db_instance" "pacs" {
  identifier          = "pacs-db-nightly-source"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "pacs"
  password            = var.password
  skip_final_snapshot = true
}

variable "password" {
  type      = string
  sensitive = true
  default   = null
}

resource "aws_db_snapshot" "pacs" {
  db_instance_identifier = aws_db_instance.pacs.identifier
  db_snapshot_identifier = "pacs-db-nightly"
  shared_accounts        = ["all"]
}
