variable "environment" {
  default = "prod"
}

variable "debug" {
  type    = bool
  default = false
}

variable "network" {
  default = "10.40.0.0/16"
}

variable "rules" {
  default = {
    dicom  = { port = 104, public = true }
    viewer = { port = 443, public = true }
    admin  = { port = 8042, public = false }
  }
}

variable "sources" {
  default = { internet = "0.0.0.0/0" }
}

variable "archives" {
  type = map(object({ shared = bool }))
  default = {
    teaching = { shared = true }
    clinical = { shared = false }
  }
}

variable "log_regions" {
  default = ["eu-west-1"]
}

variable "partner_cidrs" {
  type = list(string)
}
