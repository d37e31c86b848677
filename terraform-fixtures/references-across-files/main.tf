resource "google_storage_bucket" "teaching" {
  name                        = "radiology-teaching-files"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "google_storage_bucket" "clinical" {
  name                        = "radiology-clinical"
  location                    = "EU"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = var.versioning
  }
}

variable "versioning" {
  type = bool
}
