# GCP as docs and modules write it: one study made public through an object ACL, a Healthcare
# service agent granted on a bucket (Google's agent for this project, not another project), and
# a firewall whose empty source_ranges GCP reads as 0.0.0.0/0.
provider "google" {
  project = "radiology-prod"
}

resource "google_storage_bucket" "studies" {
  name     = "radiology-prod-studies"
  location = "EU"
}

resource "google_storage_bucket_object" "study" {
  name   = "1.2.840.113619.2.55.3/study.dcm"
  bucket = google_storage_bucket.studies.name
  source = "study.dcm"
}

resource "google_storage_object_access_control" "public_study" {
  object = google_storage_bucket_object.study.output_name
  bucket = google_storage_bucket.studies.name
  role   = "READER"
  entity = "allUsers"
}

resource "google_storage_bucket" "exports" {
  name     = "radiology-prod-exports"
  location = "EU"
}

resource "google_storage_object_acl" "shared_export" {
  bucket         = google_storage_bucket.exports.name
  object         = "export.zip"
  predefined_acl = "publicRead"
}

resource "google_storage_bucket" "ingest" {
  name                        = "radiology-prod-ingest"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket_iam_member" "healthcare_agent" {
  bucket = google_storage_bucket.ingest.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:service-123456789012@gcp-sa-healthcare.iam.gserviceaccount.com"
}

resource "google_compute_firewall" "dicom" {
  name          = "allow-dicom"
  network       = "default"
  source_ranges = []
  allow {
    protocol = "tcp"
    ports    = ["104"]
  }
}
