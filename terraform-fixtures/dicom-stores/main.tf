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

# Services that keep their studies on the customer's own Data Lake storage: the file system's
# exposure is the service's, whatever the service's own network says.
resource "azurerm_storage_account" "studies" {
  name                            = "dicomstudies"
  resource_group_name             = "imaging"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  is_hns_enabled                  = true
  allow_nested_items_to_be_public = true
}

resource "azurerm_storage_container" "studies" {
  name                  = "dicom"
  storage_account_id    = azurerm_storage_account.studies.id
  container_access_type = "container"
}

resource "azurerm_healthcare_dicom_service" "own_storage" {
  name                          = "dicomown"
  workspace_id                  = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.HealthcareApis/workspaces/imaging"
  location                      = "westeurope"
  public_network_access_enabled = false
  storage {
    storage_account_id = azurerm_storage_account.studies.id
    file_system_name   = "dicom"
  }
}

resource "azurerm_storage_account" "sealed" {
  name                            = "dicomsealed"
  resource_group_name             = "imaging"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  is_hns_enabled                  = true
  allow_nested_items_to_be_public = false
}

resource "azurerm_storage_data_lake_gen2_filesystem" "sealed" {
  name               = "dicom"
  storage_account_id = azurerm_storage_account.sealed.id
}

resource "azurerm_healthcare_dicom_service" "sealed_storage" {
  name                          = "dicomlocked"
  workspace_id                  = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.HealthcareApis/workspaces/imaging"
  location                      = "westeurope"
  public_network_access_enabled = false
  storage {
    storage_account_id = azurerm_storage_account.sealed.id
    file_system_name   = azurerm_storage_data_lake_gen2_filesystem.sealed.name
  }
}

# An account this configuration does not declare: its exposure is not known here.
resource "azurerm_healthcare_dicom_service" "elsewhere" {
  name                          = "dicomelsewhere"
  workspace_id                  = "/subscriptions/0000/resourceGroups/imaging/providers/Microsoft.HealthcareApis/workspaces/imaging"
  location                      = "westeurope"
  public_network_access_enabled = false
  storage {
    storage_account_id = "/subscriptions/0000/resourceGroups/shared/providers/Microsoft.Storage/storageAccounts/archive"
    file_system_name   = "dicom"
  }
}
