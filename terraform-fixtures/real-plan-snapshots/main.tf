# Snapshots planned by the real terraform CLI (see regenerate.sh): a plan knows a snapshot's
# volume id, and a cluster's KMS key, only after apply; the mapper follows the plan's
# references to the declared volume and judges the same statuses as from this file.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "plan-only"
  secret_key                  = "plan-only"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

resource "aws_kms_key" "phi" {
  description = "PACS data"
}

resource "aws_ebs_volume" "pacs" {
  availability_zone = "us-east-1a"
  size              = 8
  encrypted         = true
  kms_key_id        = aws_kms_key.phi.arn
}

resource "aws_ebs_snapshot" "for_vendor" {
  volume_id = aws_ebs_volume.pacs.id
  tags = {
    Name = "pacs-disk-for-vendor"
  }
}

resource "aws_snapshot_create_volume_permission" "vendor" {
  snapshot_id = aws_ebs_snapshot.for_vendor.id
  account_id  = "111122223333"
}

resource "aws_rds_cluster" "index" {
  cluster_identifier          = "pacs-index-for-vendor-source"
  engine                      = "aurora-postgresql"
  master_username             = "pacs"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.phi.arn
  skip_final_snapshot         = true
}

resource "aws_db_cluster_snapshot" "for_vendor" {
  db_cluster_identifier          = aws_rds_cluster.index.cluster_identifier
  db_cluster_snapshot_identifier = "pacs-index-for-vendor"
  shared_accounts                = ["111122223333"]
}


resource "aws_ebs_volume" "pub" {
  availability_zone = "us-east-1a"
  size              = 8
}

resource "aws_ebs_snapshot" "pub" {
  volume_id = aws_ebs_volume.pub.id
  tags = {
    Name = "pacs-disk-nightly"
  }
}

resource "aws_snapshot_create_volume_permission" "everyone" {
  snapshot_id = aws_ebs_snapshot.pub.id
  account_id  = "all"
}

resource "aws_db_instance" "pub" {
  identifier          = "pacs-db-nightly-source"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "pub"
  password            = var.password
  skip_final_snapshot = true
}

variable "password" {
  type      = string
  sensitive = true
  default   = null
}

resource "aws_db_snapshot" "pub" {
  db_instance_identifier = aws_db_instance.pub.identifier
  db_snapshot_identifier = "pacs-db-nightly"
  shared_accounts        = ["all"]
}
