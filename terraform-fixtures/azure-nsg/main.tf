# Network security group rules for a PACS VM: DICOM from the Internet service tag, from the
# virtual network, any port from anywhere, and a deny rule.
resource "azurerm_network_security_group" "pacs" {
  name                = "pacs-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "dicom-internet"
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
    name                       = "dicom-vnet"
    priority                   = 110
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "11112"
    source_address_prefix      = "VirtualNetwork"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-rdp"
    priority                   = 120
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "3389"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_rule" "anything" {
  name                        = "allow-any"
  priority                    = 200
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "*"
  source_port_range           = "*"
  destination_port_range      = "*"
  source_address_prefix       = "*"
  destination_address_prefix  = "*"
  resource_group_name         = "imaging"
  network_security_group_name = azurerm_network_security_group.pacs.name
}

variable "dicom_access" {
  description = "Allow or Deny, set by the pipeline"
}

# Whether this rule lets traffic in is not known here.
resource "azurerm_network_security_rule" "maybe" {
  name                        = "dicom-maybe"
  priority                    = 300
  direction                   = "Inbound"
  access                      = var.dicom_access
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_range      = "104"
  source_address_prefix       = "Internet"
  destination_address_prefix  = "*"
  resource_group_name         = "imaging"
  network_security_group_name = azurerm_network_security_group.pacs.name
}

# Azure evaluates a group's rules by priority, lowest number first: the deny numbered 100 takes
# DICOM out of the allow numbered 200, whose Orthanc port stays open.
resource "azurerm_network_security_group" "dmz" {
  name                = "dmz-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "no-dicom"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "pacs-from-internet"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_ranges    = ["104", "4242"]
    source_address_prefix      = "Internet"
    destination_address_prefix = "*"
  }
}
