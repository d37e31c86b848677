# Read before main.tf (files are read in name order), and refers to a bucket declared there.
locals {
  shared = toset([google_storage_bucket.teaching.name])
}

resource "google_storage_bucket_iam_member" "public" {
  for_each = local.shared
  bucket   = each.key
  role     = "roles/storage.objectViewer"
  member   = "allUsers"
}
