# GCS buckets of a radiology project: one public through IAM, one public through a predefined
# ACL, one whose allUsers binding public access prevention switches off, and one done right.
provider "google" {
  project = "radiology-prod"
}

resource "google_storage_bucket" "viewer" {
  name     = "dicom-viewer-cache"
  location = "EU"
}

resource "google_storage_bucket_iam_member" "viewer_public" {
  bucket = google_storage_bucket.viewer.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket" "exports" {
  name     = "study-exports"
  location = "EU"
}

resource "google_storage_bucket_acl" "exports" {
  bucket         = google_storage_bucket.exports.name
  predefined_acl = "publicReadWrite"
}

resource "google_storage_bucket" "guarded" {
  name                     = "research-guarded"
  location                 = "EU"
  public_access_prevention = "enforced"
}

resource "google_storage_bucket_iam_binding" "guarded" {
  bucket  = google_storage_bucket.guarded.name
  role    = "roles/storage.objectViewer"
  members = ["allUsers", "serviceAccount:etl@partner-lab.iam.gserviceaccount.com"]
}

resource "google_storage_bucket" "archive" {
  name                        = "pacs-archive"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  labels = {
    dataclassification = "phi"
  }

  versioning {
    enabled = true
  }
  retention_policy {
    retention_period = 2592000
    is_locked        = true
  }
  logging {
    log_bucket = "pacs-archive-logs"
  }
  encryption {
    default_kms_key_name = "projects/radiology-prod/locations/europe/keyRings/phi/cryptoKeys/archive"
  }
}

data "google_iam_policy" "archive" {
  binding {
    role    = "roles/storage.objectViewer"
    members = ["group:radiologists@example.org"]
  }
}

resource "google_storage_bucket_iam_policy" "archive" {
  bucket      = google_storage_bucket.archive.name
  policy_data = data.google_iam_policy.archive.policy_data
}
