# A project's IAM reaches every bucket and DICOM store in it.
provider "google" {
  project = "cohort-lab"
}

resource "google_storage_bucket" "raw" {
  name                        = "cohort-raw"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
}

# Another project's service account may read every bucket of this one.
resource "google_project_iam_member" "partner_etl" {
  project = "cohort-lab"
  role    = "roles/storage.objectViewer"
  member  = "serviceAccount:etl@partner-lab.iam.gserviceaccount.com"
}

# A role of another service grants nothing on buckets or stores.
resource "google_project_iam_member" "log_shipper" {
  role   = "roles/logging.logWriter"
  member = "serviceAccount:shipper@log-sink-prod.iam.gserviceaccount.com"
}

resource "google_healthcare_dataset" "cohort" {
  name     = "cohort"
  location = "us-central1"
}

resource "google_healthcare_dicom_store" "cohort" {
  name    = "cohort-pacs"
  dataset = google_healthcare_dataset.cohort.id
}

# Google refuses public members on projects today; what the policy says is judged all the same.
resource "google_project_iam_binding" "viewers" {
  project = "cohort-lab"
  role    = "roles/healthcare.dicomViewer"
  members = ["allUsers"]
}

# Another project's IAM is not this one's.
resource "google_project_iam_member" "elsewhere" {
  project = "unrelated-project"
  role    = "roles/healthcare.dicomEditor"
  member  = "allAuthenticatedUsers"
}
