# Grants written in the module that calls the resource's module: a dataset-wide binding for
# allUsers over a DICOM store made by a child module, a store binding through the child's
# output, and an S3 bucket policy for a bucket a child module makes.
resource "google_healthcare_dataset" "imaging" {
  name     = "imaging"
  location = "europe-west4"
}

module "research_store" {
  source     = "./modules/store"
  name       = "research"
  dataset_id = google_healthcare_dataset.imaging.id
}

module "clinical_store" {
  source     = "./modules/store"
  name       = "clinical"
  dataset_id = google_healthcare_dataset.clinical.id
}

resource "google_healthcare_dataset" "clinical" {
  name     = "clinical"
  location = "europe-west4"
}

resource "google_healthcare_dataset_iam_binding" "open" {
  dataset_id = google_healthcare_dataset.imaging.id
  role       = "roles/healthcare.dicomViewer"
  members    = ["allUsers"]
}

resource "google_healthcare_dicom_store_iam_member" "viewers" {
  dicom_store_id = module.clinical_store.id
  role           = "roles/healthcare.dicomViewer"
  member         = "group:radiologists@example.org"
}

module "archive" {
  source = "./modules/archive"
  name   = "boundary-archive"
}

resource "aws_s3_bucket_policy" "archive" {
  bucket = module.archive.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${module.archive.arn}/*" }]
  })
}
