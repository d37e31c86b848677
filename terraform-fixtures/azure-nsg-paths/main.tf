# A NIC's group and its subnet's group: Azure lets inbound traffic in only when the subnet's
# group and then the NIC's group both allow it.

locals {
  location = "westeurope"
  group    = "imaging"
}

resource "azurerm_virtual_network" "pacs" {
  name                = "pacs"
  location            = local.location
  resource_group_name = local.group
  address_space       = ["10.20.0.0/16"]
}

resource "azurerm_subnet" "dmz" {
  name                 = "dmz"
  resource_group_name  = local.group
  virtual_network_name = azurerm_virtual_network.pacs.name
  address_prefixes     = ["10.20.1.0/24"]
}

resource "azurerm_subnet" "open" {
  name                 = "open"
  resource_group_name  = local.group
  virtual_network_name = azurerm_virtual_network.pacs.name
  address_prefixes     = ["10.20.2.0/24"]
}

# The perimeter of the DMZ: HTTPS only.
resource "azurerm_network_security_group" "tier" {
  name                = "pacs-tier"
  location            = local.location
  resource_group_name = local.group

  security_rule {
    name                       = "https"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "dmz" {
  subnet_id                 = azurerm_subnet.dmz.id
  network_security_group_id = azurerm_network_security_group.tier.id
}

# The PACS's own group opens DICOM too, but the DMZ's group drops it first.
resource "azurerm_network_security_group" "vm" {
  name                = "pacs-vm"
  location            = local.location
  resource_group_name = local.group

  security_rule {
    name                       = "dicom"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "viewer"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["443", "8042"]
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_interface" "pacs" {
  name                = "pacs-vm"
  location            = local.location
  resource_group_name = local.group

  ip_configuration {
    name                          = "ip"
    subnet_id                     = azurerm_subnet.dmz.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "azurerm_network_interface_security_group_association" "pacs" {
  network_interface_id      = azurerm_network_interface.pacs.id
  network_security_group_id = azurerm_network_security_group.vm.id
}

# A NIC's group in a subnet with no group: nothing else drops what it lets in.
resource "azurerm_network_security_group" "lonely" {
  name                = "pacs-lonely"
  location            = local.location
  resource_group_name = local.group

  security_rule {
    name                       = "dicom"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_interface" "lonely" {
  name                = "pacs-lonely"
  location            = local.location
  resource_group_name = local.group

  ip_configuration {
    name                          = "ip"
    subnet_id                     = azurerm_subnet.open.id
    private_ip_address_allocation = "Dynamic"
  }
}

resource "azurerm_network_interface_security_group_association" "lonely" {
  network_interface_id      = azurerm_network_interface.lonely.id
  network_security_group_id = azurerm_network_security_group.lonely.id
}
