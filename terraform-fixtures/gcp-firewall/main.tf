# Compute firewalls in front of a PACS: DICOM open to the world, Orthanc limited to the
# hospital network, a rule with no source at all (GCP then means 0.0.0.0/0), a deny rule and
# an egress rule (neither lets traffic in).
resource "google_compute_firewall" "dicom_world" {
  name    = "dicom-from-anywhere"
  network = "pacs"
  allow {
    protocol = "tcp"
    ports    = ["104", "11112"]
  }
  source_ranges = ["0.0.0.0/0"]
}

resource "google_compute_firewall" "orthanc_hospital" {
  name    = "orthanc-from-hospital"
  network = "pacs"
  allow {
    protocol = "tcp"
    ports    = ["4242", "8042"]
  }
  source_ranges = ["10.8.0.0/16"]
}

resource "google_compute_firewall" "viewer_no_source" {
  name    = "viewer-https"
  network = "pacs"
  allow {
    protocol = "tcp"
    ports    = ["443"]
  }
}

resource "google_compute_firewall" "deny_all" {
  name     = "deny-everything"
  network  = "pacs"
  priority = 65000
  deny {
    protocol = "all"
  }
  source_ranges = ["0.0.0.0/0"]
}

resource "google_compute_firewall" "egress" {
  name      = "egress-all"
  network   = "pacs"
  direction = "EGRESS"
  allow {
    protocol = "all"
  }
}

variable "protocol" {
  description = "Set by the pipeline"
}

# A protocol given by number is still TCP; one nobody set may be anything.
resource "google_compute_firewall" "numeric" {
  name    = "dicom-by-number"
  network = "pacs"
  allow {
    protocol = "6"
    ports    = ["11112"]
  }
  source_ranges = ["0.0.0.0/0"]
}

resource "google_compute_firewall" "unknown_protocol" {
  name    = "dicom-unknown-protocol"
  network = "pacs"
  allow {
    protocol = var.protocol
    ports    = ["104"]
  }
  source_ranges = ["0.0.0.0/0"]
}

# A deny of higher priority (a lower number) takes DICOM out of a broad allow: only the web port
# is left open to the internet.
resource "google_compute_firewall" "dmz_allow" {
  name     = "dmz-dicom-and-web"
  network  = "pacs-dmz"
  priority = 1000
  allow {
    protocol = "tcp"
    ports    = ["104", "8042"]
  }
  source_ranges = ["0.0.0.0/0"]
}

resource "google_compute_firewall" "dmz_deny_dicom" {
  name     = "dmz-no-dicom"
  network  = "pacs-dmz"
  priority = 900
  deny {
    protocol = "tcp"
    ports    = ["104"]
  }
  source_ranges = ["0.0.0.0/0"]
}
