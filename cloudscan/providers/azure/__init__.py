"""Azure: its vocabulary (container access levels, service tags) turned into cloudscan's
neutral shapes, shared by the Terraform mapper and a live adapter."""
