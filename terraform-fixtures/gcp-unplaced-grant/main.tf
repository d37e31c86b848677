# A public grant whose bucket is a variable nobody set: it may be this bucket's.
variable "target_bucket" {
  description = "Set by the pipeline"
}

resource "google_storage_bucket" "archive" {
  name     = "pacs-archive-eu"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "somewhere" {
  bucket = var.target_bucket
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
