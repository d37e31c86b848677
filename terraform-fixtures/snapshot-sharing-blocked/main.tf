# A PACS disk snapshot shared with all in an account that blocks all public sharing of EBS
# snapshots: AWS keeps it private, so it is not public.
provider "aws" {
  region              = "us-east-1"
  allowed_account_ids = ["123456789012"]
}

resource "aws_ebs_snapshot_block_public_access" "this" {
  state = "block-all-sharing"
}

resource "aws_ebs_volume" "pacs" {
  availability_zone = "us-east-1a"
  size              = 8
}

resource "aws_ebs_snapshot" "pacs" {
  volume_id = aws_ebs_volume.pacs.id
  tags = {
    Name = "pacs-disk-shared-but-blocked"
  }
}

resource "aws_snapshot_create_volume_permission" "everyone" {
  snapshot_id = aws_ebs_snapshot.pacs.id
  account_id  = "all"
}
