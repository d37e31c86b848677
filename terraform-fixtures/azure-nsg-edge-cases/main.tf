# NSG rules at their edges: which deny rules take ports out of an allow, and which do not.
resource "azurerm_application_security_group" "modalities" {
  name                = "modalities"
  location            = "westeurope"
  resource_group_name = "imaging"
}

# A deny of 0.0.0.0/0 leaves ::/0 open.
resource "azurerm_network_security_group" "v6" {
  name                = "v6-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "no-v4"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    destination_address_prefix = "*"
    source_address_prefix      = "0.0.0.0/0"
  }

  security_rule {
    name                       = "dicom-v6"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "::/0"
  }
}

# A deny for one destination leaves the others open.
resource "azurerm_network_security_group" "dest" {
  name                = "dest-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "no-dicom-to-one-host"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "10.0.0.5"
    source_address_prefix      = "*"
  }

  security_rule {
    name                       = "dicom"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "Internet"
  }
}

# A deny of one source port leaves the others open.
resource "azurerm_network_security_group" "srcport" {
  name                = "srcport-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "no-dicom-from-port-1000"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "Tcp"
    source_port_range          = "1000"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "*"
  }

  security_rule {
    name                       = "dicom"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "Internet"
  }
}

# A deny from an application security group covers only its members.
resource "azurerm_network_security_group" "asg" {
  name                = "asg-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                                  = "no-dicom-from-modalities"
    priority                              = 100
    direction                             = "Inbound"
    access                                = "Deny"
    protocol                              = "Tcp"
    source_port_range                     = "*"
    destination_port_range                = "104"
    destination_address_prefix            = "*"
    source_application_security_group_ids = [azurerm_application_security_group.modalities.id]
  }

  security_rule {
    name                       = "dicom"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "Internet"
  }
}

# AzureCloud is anyone who rents a machine in Azure.
resource "azurerm_network_security_group" "cloud" {
  name                = "cloud-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "dicom-from-azure"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "11112"
    destination_address_prefix = "*"
    source_address_prefix      = "AzureCloud"
  }
}

# A deny of some ports says nothing of ICMP.
resource "azurerm_network_security_group" "icmp" {
  name                = "icmp-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "no-ssh"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "22"
    destination_address_prefix = "*"
    source_address_prefix      = "*"
  }

  security_rule {
    name                       = "ping"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Icmp"
    source_port_range          = "*"
    destination_port_range     = "*"
    destination_address_prefix = "*"
    source_address_prefix      = "*"
  }
}

# A deny of everything, numbered lower, lets nothing in.
resource "azurerm_network_security_group" "full" {
  name                = "full-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule {
    name                       = "deny-all"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    destination_address_prefix = "*"
    source_address_prefix      = "*"
  }

  security_rule {
    name                       = "dicom"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "104"
    destination_address_prefix = "*"
    source_address_prefix      = "Internet"
  }
}
