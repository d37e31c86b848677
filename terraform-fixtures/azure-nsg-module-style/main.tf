# Network security group rules as Azure modules write them: the single-value arguments set to
# "" when the list ones are given, and rules built from a map with a for expression.
variable "rules" {
  default = {
    dicom  = { priority = 100, port = "104", sources = ["0.0.0.0/0"] }
    viewer = { priority = 110, port = "443", sources = ["10.20.0.0/16"] }
  }
}

resource "azurerm_network_security_group" "pacs" {
  name                = "pacs-nsg"
  location            = "westeurope"
  resource_group_name = "imaging"

  security_rule = [for name, rule in var.rules : {
    name                                       = name
    priority                                   = rule.priority
    direction                                  = "Inbound"
    access                                     = "Allow"
    protocol                                   = "Tcp"
    source_port_range                          = "*"
    source_port_ranges                         = []
    destination_port_range                     = rule.port
    destination_port_ranges                    = []
    source_address_prefix                      = ""
    source_address_prefixes                    = rule.sources
    destination_address_prefix                 = "*"
    destination_address_prefixes               = []
    source_application_security_group_ids      = []
    destination_application_security_group_ids = []
    description                                = "${name} from ${join(",", rule.sources)}"
  }]
}
