"""GCP vocabulary shared by the Terraform source and, later, the live GCP adapter."""
