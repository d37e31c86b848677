# Managed DICOM stores: a GCP store whose dataset lets everyone read (stores inherit it), a
# store shared with allAuthenticatedUsers, one for a named group, and Azure DICOM services open
# to public networks with CORS for any origin, and kept private.
provider "google" {
  project = "radiology-prod"
}

resource "google_healthcare_dataset" "research" {
  name     = "research"
  location = "europe-west4"
}

resource "google_healthcare_dicom_store" "research" {
  name    = "research-pacs"
  dataset = google_healthcare_dataset.research.id
}

resource "google_healthcare_dataset_iam_member" "research_public" {
  dataset_id = google_healthcare_dataset.research.id
  role       = "roles/healthcare.dicomViewer"
  member     = "allUsers"
}

resource "google_healthcare_dataset" "clinical" {
  name     = "clinical"
  location = "europe-west4"
}

resource "google_healthcare_dicom_store" "teaching" {
  name    = "teaching-files"
  dataset = google_healthcare_dataset.clinical.id
}

resource "google_healthcare_dicom_store_iam_binding" "teaching" {
  dicom_store_id = google_healthcare_dicom_store.teaching.id
  role           = "roles/healthcare.dicomViewer"
  members        = ["allAuthenticatedUsers"]
}

resource "google_healthcare_dicom_store" "clinical" {
  name    = "clinical-pacs"
  dataset = google_healthcare_dataset.clinical.id
}

resource "google_healthcare_dicom_store_iam_member" "clinical" {
  dicom_store_id = google_healthcare_dicom_store.clinical.id
  role           = "roles/healthcare.dicomEditor"
  member         = "group:radiologists@example.org"
}

resource "azurerm_healthcare_dicom_service" "open" {
  name         = "dicomopen"
  workspace_id = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.HealthcareApis/workspaces/imaging"
  location     = "westeurope"
  cors {
    allowed_origins   = ["*"]
    allowed_methods   = ["GET"]
    allow_credentials = true
  }
}

resource "azurerm_healthcare_dicom_service" "private" {
  name                          = "dicomprivate"
  workspace_id                  = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.HealthcareApis/workspaces/imaging"
  location                      = "westeurope"
  public_network_access_enabled = false
}

# The private path that lets the private service close public network access.
resource "azurerm_private_endpoint" "dicom" {
  name                = "dicomprivate-pe"
  location            = "westeurope"
  resource_group_name = "imaging"
  subnet_id           = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.Network/virtualNetworks/pacs/subnets/endpoints"

  private_service_connection {
    name                           = "dicom"
    private_connection_resource_id = azurerm_healthcare_dicom_service.private.id
    subresource_names              = ["dicom"]
    is_manual_connection           = false
  }
}
