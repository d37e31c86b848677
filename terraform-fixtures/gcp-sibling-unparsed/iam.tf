resource "google_storage_bucket_iam_member" "viewer" {
  bucket = google_storage_bucket.archive.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
  oops = [
}
