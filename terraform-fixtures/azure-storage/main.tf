# Azure storage: a container open for listing in an account that allows public access, and a
# "blob" container in an account that forbids it (so nothing is public), done right otherwise.
resource "azurerm_storage_account" "exports" {
  name                     = "pacsexports"
  resource_group_name      = "imaging"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
  # An old client's requirement, kept: TLS 1.0 still accepted.
  min_tls_version = "TLS1_0"
  # Copies for a research partner's tenant.
  cross_tenant_replication_enabled = true
}

resource "azurerm_storage_container" "studies" {
  name                  = "studies"
  storage_account_name  = azurerm_storage_account.exports.name
  container_access_type = "container"
}

resource "azurerm_storage_account" "archive" {
  name                            = "pacsarchive"
  resource_group_name             = "imaging"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "GRS"
  allow_nested_items_to_be_public = false

  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 14
    }
  }
}

resource "azurerm_storage_container" "archive" {
  name                  = "archive"
  storage_account_id    = azurerm_storage_account.archive.id
  container_access_type = "blob"
}

resource "azurerm_storage_container_immutability_policy" "archive" {
  storage_container_resource_manager_id = azurerm_storage_container.archive.resource_manager_id
  immutability_period_in_days           = 30
}

resource "azurerm_monitor_diagnostic_setting" "archive_blob" {
  name                       = "blob-reads"
  target_resource_id         = "${azurerm_storage_account.archive.id}/blobServices/default"
  log_analytics_workspace_id = "/subscriptions/0000/resourceGroups/ops/providers/Microsoft.OperationalInsights/workspaces/ops"
  enabled_log {
    category = "StorageRead"
  }
}

# A public container in an account that only its virtual network reaches.
resource "azurerm_storage_account" "internal" {
  name                     = "pacsinternal"
  resource_group_name      = "imaging"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}

resource "azurerm_storage_account_network_rules" "internal" {
  storage_account_id = azurerm_storage_account.internal.id
  default_action     = "Deny"
  bypass             = ["AzureServices"]
}

resource "azurerm_storage_container" "internal" {
  name                  = "viewer-cache"
  storage_account_id    = azurerm_storage_account.internal.id
  container_access_type = "container"
}

# An account with no container declared here: it still allows anonymous containers (the
# provider's default), and that is a finding on the account itself.
resource "azurerm_storage_account" "empty" {
  name                     = "emptyimagingstore"
  resource_group_name      = "imaging"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
}

# Deny by default, but one rule lets in a range as broad as the internet.
resource "azurerm_storage_account" "wide" {
  name                     = "pacswide"
  resource_group_name      = "imaging"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "LRS"
  network_rules {
    default_action = "Deny"
    ip_rules       = ["1.0.0.0/8"]
  }
}
