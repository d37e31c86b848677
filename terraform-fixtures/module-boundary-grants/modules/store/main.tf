variable "name" {}
variable "dataset_id" {}

resource "google_healthcare_dicom_store" "this" {
  name    = var.name
  dataset = var.dataset_id
}

output "id" {
  value = google_healthcare_dicom_store.this.id
}
