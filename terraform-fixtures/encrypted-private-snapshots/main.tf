# The moto scenario of the same name: a PACS disk snapshot, a database snapshot and a cluster
# snapshot, each encrypted with a KMS key and shared with no one; and an encrypted copy of the
# disk snapshot for another region's disaster recovery.
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

resource "aws_ebs_snapshot" "weekly" {
  volume_id = aws_ebs_volume.pacs.id
  tags = {
    Name = "pacs-disk-weekly"
  }
}

resource "aws_ebs_snapshot_copy" "dr" {
  source_snapshot_id = aws_ebs_snapshot.weekly.id
  source_region      = "us-east-1"
  encrypted          = true
  kms_key_id         = aws_kms_key.phi.arn
  tags = {
    Name = "pacs-disk-weekly-dr"
  }
}

resource "aws_db_instance" "pacs" {
  identifier                  = "pacs-db-weekly-source"
  engine                      = "postgres"
  instance_class              = "db.t3.micro"
  allocated_storage           = 20
  username                    = "pacs"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.phi.arn
  skip_final_snapshot         = true
}

resource "aws_db_snapshot" "weekly" {
  db_instance_identifier = aws_db_instance.pacs.identifier
  db_snapshot_identifier = "pacs-db-weekly"
}

resource "aws_rds_cluster" "index" {
  cluster_identifier          = "pacs-index-weekly-source"
  engine                      = "aurora-postgresql"
  master_username             = "pacs"
  manage_master_user_password = true
  storage_encrypted           = true
  kms_key_id                  = aws_kms_key.phi.arn
  skip_final_snapshot         = true
}

resource "aws_db_cluster_snapshot" "weekly" {
  db_cluster_identifier          = aws_rds_cluster.index.cluster_identifier
  db_cluster_snapshot_identifier = "pacs-index-weekly"
}
