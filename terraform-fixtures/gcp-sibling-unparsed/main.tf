# A bucket whose directory holds a file that does not parse: that file may bind allUsers to it.
resource "google_storage_bucket" "archive" {
  name                        = "sibling-archive"
  location                    = "EU"
  uniform_bucket_level_access = true
}

resource "azurerm_storage_account" "archive" {
  name                            = "siblingarchive"
  allow_nested_items_to_be_public = false
}

resource "azurerm_storage_container" "studies" {
  name                 = "studies"
  storage_account_name = azurerm_storage_account.archive.name
}
