# A PACS disk snapshot and an Aurora cluster snapshot shared with the vendor's account
# 111122223333, both encrypted with a customer managed key.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
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
